// Plain TypeScript transcription of PyTorch 1.12's AdamW(amsgrad) and SGD(momentum) updates, used
// to check the emitted optimiser graph and to document the exact arithmetic.
import type { OptimizerConfig } from './config.js';

export function referenceStep(
  cfg: OptimizerConfig,
  param: Float64Array,
  grad: ArrayLike<number>,
  state: Float64Array[],
  lr: number,
  step: number,
): void {
  if (cfg.kind === 'adamw') {
    const [m, v, vmax] = state;
    const bc1 = 1 - cfg.beta1 ** step;
    const bc2 = 1 - cfg.beta2 ** step;
    for (let i = 0; i < param.length; i++) {
      param[i] *= 1 - lr * cfg.weightDecay;
      m[i] = m[i] * cfg.beta1 + grad[i] * (1 - cfg.beta1);
      v[i] = v[i] * cfg.beta2 + grad[i] * grad[i] * (1 - cfg.beta2);
      let second = v[i];
      if (cfg.amsgrad) second = vmax[i] = Math.max(vmax[i], v[i]);
      const denom = Math.sqrt(second) / Math.sqrt(bc2) + cfg.eps;
      param[i] -= (lr / bc1) * (m[i] / denom);
    }
    return;
  }
  for (let i = 0; i < param.length; i++) {
    const d = grad[i] + cfg.weightDecay * param[i];
    if (!cfg.momentum) {
      param[i] -= lr * d;
      continue;
    }
    const buf = state[0];
    buf[i] = step === 1 ? d : buf[i] * cfg.momentum + d * (1 - (cfg.dampening ?? 0));
    param[i] -= lr * (cfg.nesterov ? d + cfg.momentum * buf[i] : buf[i]);
  }
}
