import { expect } from 'chai';
import { binaryDiceLoss } from '../../graphs/losses.js';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder, type Value } from '../../src/onnx/builder.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { optimizerGraph, optimizerStateSuffixes, type OptimizerConfig } from '../../src/optim/index.js';
import { Rng } from '../../src/util/rng.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { numel } from '../../src/onnx/ir.js';

// float32 model: the loss (about 1e2) carries ~1e-5 rounding noise, so central differences with
// eps 1e-3 are good to ~1e-2 absolute; gradients that vanish analytically (a conv bias before
// instance norm) are compared with atol 5e-2, the rest to rtol 5e-3.
// A two-level residual U-Net in 2D with the same building blocks as the upstream UNet3D
// (conv -> instance norm -> PReLU units, 1x1 residual, max-pool, up-sampling, concatenation).
const C = 4;
const shapes: Record<string, number[]> = {
  'enc1.conv.weight': [C, 1, 3, 3],
  'enc1.conv.bias': [C],
  'enc1.prelu': [1],
  'enc1.residual.weight': [C, 1, 1, 1],
  'enc2.conv.weight': [2 * C, C, 3, 3],
  'enc2.conv.bias': [2 * C],
  'enc2.prelu': [1],
  'up.conv.weight': [C, 2 * C, 3, 3],
  'up.conv.bias': [C],
  'dec.conv.weight': [1, 2 * C, 3, 3],
  'dec.conv.bias': [1],
};

function unit(x: Value, p: (n: string) => Value, name: string): Value {
  const c = op.conv(x, p(`${name}.conv.weight`), p(`${name}.conv.bias`), { pads: [1, 1, 1, 1] });
  const ch = c.dim(1);
  const n = op.instanceNorm(
    c,
    x.b.constant(new Float32Array(ch).fill(1), 'float32', [ch]),
    x.b.constant(new Float32Array(ch), 'float32', [ch]),
  );
  return op.prelu(n, p(`${name}.prelu`));
}

function tinyUnet(x: Value, p: (n: string) => Value): Value {
  const e1 = op.add(unit(x, p, 'enc1'), op.conv(x, p('enc1.residual.weight'), null));
  const e2 = unit(op.maxPool(e1, { kernel: [2, 2] }), p, 'enc2');
  const up = op.conv(op.resizeNearest(e2, [1, 1, 2, 2]), p('up.conv.weight'), p('up.conv.bias'), {
    pads: [1, 1, 1, 1],
  });
  return op.conv(op.concat([up, e1], 1), p('dec.conv.weight'), p('dec.conv.bias'), { pads: [1, 1, 1, 1] });
}

function initParams(rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const [name, s] of Object.entries(shapes)) {
    const n = numel(s);
    const fanIn = s.length > 1 ? n / s[0] : 1;
    m.set(
      name,
      name.endsWith('prelu')
        ? Float32Array.from([0.25])
        : Float32Array.from({ length: n }, () => rng.range(-1, 1) / Math.sqrt(fanIn)),
    );
  }
  return m;
}

describe('a tiny residual U-Net, end to end through our graphs', () => {
  it('whole-model gradient matches finite differences (float32)', async () => {
    const names = Object.keys(shapes);
    await gradCheck(
      [
        { name: 'x', shape: [2, 1, 8, 8], dtype: 'float32', wrt: false },
        ...names.map((n) => ({ name: n, shape: shapes[n], dtype: 'float32' as const })),
      ],
      ([x, ...ps]) => tinyUnet(x, (n) => ps[names.indexOf(n)]),
      { eps: 1e-3, rtol: 5e-3, atol: 5e-2, directions: 2 },
    );
  });

  it('overfits one fixed batch: Dice loss below 0.05 within 200 AdamW steps', async () => {
    const N = 2,
      H = 16,
      W = 16;
    const b = new GraphBuilder();
    const params = new Map(Object.entries(shapes).map(([n, s]) => [n, b.input(n, 'float32', s)]));
    const x = b.input('image', 'float32', ['N', 1, H, W]);
    const mask = b.input('mask', 'float32', ['N', 1, H, W]);
    const loss = binaryDiceLoss(
      tinyUnet(x, (n) => params.get(n)!),
      mask,
    );
    b.output(loss, 'loss');
    const grads = gradients(b, loss, [...params.values()]);
    for (const n of params.keys()) b.output(grads.get(n)!, `${n}.grad`);
    const trainGraph = b.toGraph('train_tiny');
    assertGraphOk(trainGraph);
    const cfg: OptimizerConfig = {
      kind: 'adamw',
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 1e-5,
      amsgrad: true,
    };
    const [train, optim] = await Promise.all([
      createSession(trainGraph),
      createSession(
        optimizerGraph(
          Object.entries(shapes).map(([name, shape]) => ({ name, shape })),
          cfg,
        ),
      ),
    ]);

    // Bright discs on a noisy background; the mask is the disc.
    const rng = new Rng(3);
    const image = new Float32Array(N * H * W);
    const target = new Float32Array(N * H * W);
    for (let n = 0; n < N; n++) {
      const cy = 6 + 4 * n,
        cx = 9 - 2 * n,
        r = 4 + n;
      for (let y = 0; y < H; y++)
        for (let x0 = 0; x0 < W; x0++) {
          const inside = (y - cy) ** 2 + (x0 - cx) ** 2 <= r * r ? 1 : 0;
          target[n * H * W + y * W + x0] = inside;
          image[n * H * W + y * W + x0] = inside * 0.8 + rng.normal() * 0.3;
        }
    }
    let p: Map<string, Float32Array> = initParams(new Rng(11));
    const suffixes = optimizerStateSuffixes(cfg);
    let state: Map<string, Float32Array[]> = new Map(
      [...p].map(([n, v]) => [n, suffixes.map(() => new Float32Array(v.length))]),
    );
    let last = 1;
    for (let step = 1; step <= 200 && last >= 0.05; step++) {
      const feeds: Record<string, ReturnType<typeof tensor>> = {
        image: tensor('float32', image, [N, 1, H, W]),
        mask: tensor('float32', target, [N, 1, H, W]),
      };
      for (const [n, v] of p) feeds[n] = tensor('float32', v, shapes[n]);
      const out = await train.run(feeds);
      last = Number(out.loss.data[0]);
      expect(Number.isFinite(last)).to.equal(true);
      const ofeeds: Record<string, ReturnType<typeof tensor>> = {
        lr: tensor('float32', Float32Array.from([1e-2]), []),
        step: tensor('float32', Float32Array.from([step]), []),
      };
      for (const [n, v] of p) {
        ofeeds[n] = tensor('float32', v, shapes[n]);
        ofeeds[`${n}.grad`] = out[`${n}.grad`];
        suffixes.forEach((s, k) => (ofeeds[`${n}.${s}`] = tensor('float32', state.get(n)![k], shapes[n])));
      }
      const o = await optim.run(ofeeds);
      p = new Map([...p.keys()].map((n) => [n, o[`${n}.new`].data as Float32Array]));
      state = new Map(
        [...p.keys()].map((n) => [n, suffixes.map((s) => o[`${n}.${s}.new`].data as Float32Array)]),
      );
    }
    expect(last).to.be.below(0.05);
  });
});
