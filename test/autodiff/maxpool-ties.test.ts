import { expect } from 'chai';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { formsFor, type GraphForms } from '../../src/onnx/forms.js';
import { numel } from '../../src/onnx/ir.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

/**
 * Reference: every output's gradient goes to the first input element of its window, in kernel
 * scan order (last axis fastest), that equals the window's maximum; padding never wins.
 */
function referenceGrad(
  x: Float32Array,
  shape: number[],
  k: number[],
  s: number[],
  pads: number[],
  r: Float32Array,
) {
  const d = k.length;
  const inS = shape.slice(2);
  const outS = inS.map((v, i) => Math.floor((v + pads[i] + pads[i + d] - k[i]) / s[i]) + 1);
  const dx = new Float32Array(x.length);
  const planes = shape[0] * shape[1];
  const stride = (dims: number[], i: number) => numel(dims.slice(i + 1));
  let ri = 0;
  for (let p = 0; p < planes; p++) {
    for (let w = 0; w < numel(outS); w++) {
      const wi = outS.map((_, i) => Math.floor(w / stride(outS, i)) % outS[i]);
      let best = -Infinity;
      let at = -1;
      for (let t = 0; t < numel(k); t++) {
        const pos = k.map((_, i) => wi[i] * s[i] + (Math.floor(t / stride(k, i)) % k[i]) - pads[i]);
        if (pos.some((v, i) => v < 0 || v >= inS[i])) continue;
        const flat = p * numel(inS) + pos.reduce((a, v, i) => a + v * stride(inS, i), 0);
        if (x[flat] > best) [best, at] = [x[flat], flat];
      }
      dx[at] += r[ri++];
    }
  }
  return dx;
}

async function emittedGrad(
  form: GraphForms['maxPoolGrad'],
  x: Float32Array,
  shape: number[],
  k: number[],
  s: number[],
  pads: number[],
  r: Float32Array,
) {
  const b = new GraphBuilder();
  const xv = b.input('x', 'float32', shape);
  const y = op.maxPool(xv, { kernel: k, strides: s, pads });
  const rv = b.input('r', 'float32', y.shape);
  const loss = op.reduceSum(
    op.mul(y, rv),
    y.shape.map((_, i) => i),
    false,
  );
  b.output(loss, 'loss');
  b.output(gradients(b, loss, [xv], formsFor('cpu', { maxPoolGrad: form })).get('x')!, 'dx');
  const session = await createSession(b.toGraph('maxpool-ties'));
  const out = await session.run({
    x: tensor('float32', x, shape),
    r: tensor('float32', r, y.shape.map(Number)),
  });
  return out.dx.data as Float32Array;
}

describe('MaxPool gradient with tied maxima, both forms (Indices + scatter; first-max mask)', () => {
  const cases = [
    {
      name: '3D kernel 2 stride 2',
      shape: [2, 3, 4, 6, 6],
      k: [2, 2, 2],
      s: [2, 2, 2],
      pads: [0, 0, 0, 0, 0, 0],
    },
    { name: '2D kernel 3 stride 2 pad 1', shape: [2, 2, 7, 8], k: [3, 3], s: [2, 2], pads: [1, 1, 1, 1] },
    { name: '2D kernel 2 stride 2, odd size', shape: [1, 2, 5, 7], k: [2, 2], s: [2, 2], pads: [0, 0, 0, 0] },
  ];
  for (const c of cases)
    for (const form of ['indices', 'first-max-mask'] as const) {
      it(`${c.name}, ${form}: routes each output gradient to the first maximum of its window only`, async () => {
        const rng = new Rng(3);
        // Three levels only, so most windows hold several equal maxima.
        const x = Float32Array.from({ length: numel(c.shape) }, () => Math.floor(rng.uniform() * 3));
        const outLen =
          numel(c.shape.slice(0, 2)) *
          numel(
            c.shape
              .slice(2)
              .map((v, i) => Math.floor((v + c.pads[i] + c.pads[i + c.k.length] - c.k[i]) / c.s[i]) + 1),
          );
        const r = Float32Array.from({ length: outLen }, () => rng.normal());
        const want = referenceGrad(x, c.shape, c.k, c.s, c.pads, r);
        const got = await emittedGrad(form, x, c.shape, c.k, c.s, c.pads, r);
        // + 0 turns -0 (a zero share times a negative gradient) into 0: both mean "nothing routed here".
        expect(Array.from(got, (v) => v + 0)).to.deep.equal(Array.from(want));
      });
    }
});
