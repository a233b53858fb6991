import { expect } from 'chai';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import {
  optimizerGraph,
  optimizerStateSuffixes,
  referenceStep,
  SSL_OPTIMIZER,
  WEAK_OPTIMIZER,
  type OptimizerConfig,
} from '../../src/optim/index.js';
import { Rng } from '../../src/util/rng.js';
import { numel } from '../../src/onnx/ir.js';

async function compareFiveSteps(cfg: OptimizerConfig, lrs: number[]) {
  const rng = new Rng(7);
  const params = [
    { name: 'a.weight', shape: [3, 4] },
    { name: 'b', shape: [5] },
  ];
  const graph = optimizerGraph(params, cfg);
  assertGraphOk(graph);
  const session = await createSession(graph);
  const suffixes = optimizerStateSuffixes(cfg);
  const n = numel;
  const cur: { p: Float32Array; s: Float32Array[] }[] = params.map((p) => ({
    p: Float32Array.from({ length: n(p.shape) }, () => rng.normal()),
    s: suffixes.map(() => new Float32Array(n(p.shape))),
  }));
  const ref = cur.map((c) => ({
    p: Float64Array.from(c.p),
    s: suffixes.map(() => new Float64Array(c.p.length)),
  }));
  for (let step = 1; step <= 5; step++) {
    const lr = lrs[step - 1];
    const grads = params.map((p) => Float32Array.from({ length: n(p.shape) }, () => rng.normal() * 0.1));
    const feeds: Record<string, ReturnType<typeof tensor>> = {
      lr: tensor('float32', Float32Array.from([lr]), []),
      step: tensor('float32', Float32Array.from([step]), []),
    };
    params.forEach((p, i) => {
      feeds[p.name] = tensor('float32', cur[i].p, p.shape);
      feeds[`${p.name}.grad`] = tensor('float32', grads[i], p.shape);
      suffixes.forEach((s, k) => (feeds[`${p.name}.${s}`] = tensor('float32', cur[i].s[k], p.shape)));
    });
    const out = await session.run(feeds);
    params.forEach((p, i) => {
      referenceStep(cfg, ref[i].p, grads[i], ref[i].s, lr, step);
      cur[i].p = out[`${p.name}.new`].data as Float32Array;
      cur[i].s = suffixes.map((s) => out[`${p.name}.${s}.new`].data as Float32Array);
    });
  }
  params.forEach((p, i) => {
    for (let j = 0; j < cur[i].p.length; j++) {
      const rel = Math.abs(cur[i].p[j] - ref[i].p[j]) / Math.max(Math.abs(ref[i].p[j]), 1e-3);
      expect(rel, `${p.name}[${j}]`).to.be.below(1e-6);
    }
  });
  // The parameters really moved (a check that cannot pass with an identity graph).
  expect(Math.abs(cur[0].p[0] - Number(new Rng(7).normal()))).to.be.above(1e-5);
}

describe('optimizer graph vs a TypeScript transcription of PyTorch', () => {
  it('AdamW amsgrad (weak-supervision settings, weight decay on) over 5 steps, to 1e-6 relative', async () => {
    await compareFiveSteps(WEAK_OPTIMIZER, [3e-4, 3e-4, 3e-4, 3e-5, 3e-5]);
  });
  it('AdamW amsgrad (SSL settings: betas 0.9/0.95, wd 1e-3) with a large lr', async () => {
    await compareFiveSteps(SSL_OPTIMIZER, [0.05, 0.05, 0.05, 0.05, 0.05]);
  });
  it('plain AdamW without amsgrad', async () => {
    await compareFiveSteps(
      { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, amsgrad: false, weightDecay: 0.1 },
      [0.01, 0.01, 0.01, 0.01, 0.01],
    );
  });
  it('SGD with momentum, dampening and nesterov', async () => {
    await compareFiveSteps({ kind: 'sgd', momentum: 0.9, weightDecay: 1e-2 }, [0.1, 0.1, 0.1, 0.1, 0.1]);
    await compareFiveSteps(
      { kind: 'sgd', momentum: 0.9, weightDecay: 0, nesterov: true },
      [0.1, 0.1, 0.05, 0.05, 0.05],
    );
  });
});
