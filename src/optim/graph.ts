// One optimiser step for every parameter, as an ONNX graph whose arithmetic follows PyTorch 1.12's
// single-tensor AdamW / SGD line by line, up to one reordering noted in adamwStep (the TypeScript
// transcription in reference.ts is the test).
import { GraphBuilder, type Value } from '../onnx/builder.js';
import type { Graph } from '../onnx/ir.js';
import { add, div, equal, max, mul, pow, reciprocal, sqrt, sub, where } from '../onnx/ops/index.js';
import { optimizerStateSuffixes, type OptimizerConfig } from './config.js';

export interface ParamShape {
  name: string;
  shape: number[];
}

/**
 * Inputs: each parameter `p`, its gradient `p.grad`, its state `p.<suffix>`, scalars `lr` and
 * `step` (float32; the 1-based number of this update). Outputs: `p.new` and `p.<suffix>.new`.
 */
export function optimizerGraph(params: ParamShape[], cfg: OptimizerConfig): Graph {
  const b = new GraphBuilder();
  const lr = b.input('lr', 'float32', []);
  const step = b.input('step', 'float32', []);
  const suffixes = optimizerStateSuffixes(cfg);
  for (const p of params) {
    const param = b.input(p.name, 'float32', p.shape);
    const grad = b.input(`${p.name}.grad`, 'float32', p.shape);
    const state = suffixes.map((s) => b.input(`${p.name}.${s}`, 'float32', p.shape));
    const out = b.scope(p.name, () =>
      cfg.kind === 'adamw'
        ? adamwStep(cfg, param, grad, state, lr, step)
        : sgdStep(cfg, param, grad, state, lr, step),
    );
    b.output(out.param, `${p.name}.new`);
    out.state.forEach((v, i) => b.output(v, `${p.name}.${suffixes[i]}.new`));
  }
  b.metadata.optimizer = JSON.stringify(cfg);
  return b.toGraph(`optimizer_${cfg.kind}`);
}

type AdamW = Extract<OptimizerConfig, { kind: 'adamw' }>;
type Sgd = Extract<OptimizerConfig, { kind: 'sgd' }>;

function adamwStep(cfg: AdamW, param: Value, grad: Value, state: Value[], lr: Value, step: Value) {
  const [expAvg, expAvgSq, maxExpAvgSq] = state;
  const decayed = mul(param, sub(1, mul(lr, cfg.weightDecay))); // decoupled weight decay
  const m = add(mul(expAvg, cfg.beta1), mul(grad, 1 - cfg.beta1));
  const v = add(mul(expAvgSq, cfg.beta2), mul(mul(grad, 1 - cfg.beta2), grad));
  const bc1 = sub(1, pow(param.b.scalar(cfg.beta1), step));
  const bc2 = sub(1, pow(param.b.scalar(cfg.beta2), step));
  const vMax = cfg.amsgrad ? max(maxExpAvgSq, v) : v;
  // PyTorch divides by sqrt(bc2) and scales m / denom by lr / bc1; multiplying by the scalars'
  // reciprocals and scaling m first does the same within a rounding and is ~25% faster in ORT
  // (a full-size Div by a scalar costs more than a Mul).
  const denom = add(mul(sqrt(vMax), reciprocal(sqrt(bc2))), cfg.eps); // eps outside the square root
  const updated = sub(decayed, div(mul(m, div(lr, bc1)), denom));
  return { param: updated, state: cfg.amsgrad ? [m, v, vMax] : [m, v] };
}

function sgdStep(cfg: Sgd, param: Value, grad: Value, state: Value[], lr: Value, step: Value) {
  const d = cfg.weightDecay ? add(grad, mul(param, cfg.weightDecay)) : grad;
  if (!cfg.momentum) return { param: sub(param, mul(lr, d)), state: [] };
  // PyTorch starts the momentum buffer as a copy of the first gradient.
  const blended = add(mul(state[0], cfg.momentum), mul(d, 1 - (cfg.dampening ?? 0)));
  const buf = where(equal(step, 1), d, blended);
  const direction = cfg.nesterov ? add(d, mul(buf, cfg.momentum)) : buf;
  return { param: sub(param, mul(lr, direction)), state: [buf] };
}
