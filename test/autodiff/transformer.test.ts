import { expect } from 'chai';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';
import { gradCheck } from '../helpers/gradcheck.js';

// ORT runs Softmax, MatMul and LayerNormalization in double: float64 finite differences, tight
// tolerances. It has no double Erf: Erf and GELU in float32 with eps 1e-2, rtol 2e-3 (the loss
// itself is accumulated in float64), as the conv and norm rules are checked.
const f32 = { eps: 1e-2, rtol: 2e-3, atol: 1e-3 };
const t32 = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' as const });

describe('VJP rules: softmax, erf / GELU, batched MatMul, LayerNorm (finite differences)', () => {
  it('Softmax over the last axis and over axis 1 (float64)', async () => {
    await gradCheck([{ name: 'x', shape: [2, 3, 4] }], ([x]) => op.softmax(x));
    await gradCheck([{ name: 'x', shape: [2, 3, 4] }], ([x]) => op.softmax(x, 1));
  });

  it('Erf and exact GELU (float32)', async () => {
    await gradCheck([t32('x', [3, 7])], ([x]) => op.erf(x), f32);
    await gradCheck([t32('x', [4, 9])], ([x]) => op.gelu(op.mul(x, 2)), f32);
  });

  it("GELU's gradient is emitted as one product at its inner Mul: no gradient node for its Erf, Add or Div", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const loss = op.reduceSum(op.gelu(x), [0, 1], false);
    const forward = b.nodes.filter((n) => ['Erf', 'Add', 'Div'].includes(n.op)).map((n) => n.name);
    expect(forward).to.have.length(3);
    gradients(b, loss, [x]);
    const differentiated = b.nodes.filter((n) => forward.some((f) => n.name.startsWith(`grad:${f}/`)));
    expect(differentiated.map((n) => n.name)).to.deep.equal([]);
  });

  it('MatMul of rank 4 x 4, broadcast batch axes (4 x 3), Linear ([B, N, K] x [K, M]) and rank 2 x 3 (float64)', async () => {
    await gradCheck(
      [
        { name: 'a', shape: [2, 3, 4, 5] },
        { name: 'b', shape: [2, 3, 5, 2] },
      ],
      ([a, b]) => op.matmul(a, b),
    );
    // a broadcast along axis 1 (size 1) and b along the missing leading axis: both gradients are summed back
    await gradCheck(
      [
        { name: 'a', shape: [2, 1, 4, 5] },
        { name: 'b', shape: [3, 5, 2] },
      ],
      ([a, b]) => op.matmul(a, b),
    );
    await gradCheck(
      [
        { name: 'a', shape: [2, 7, 5] },
        { name: 'w', shape: [5, 3] },
      ],
      ([a, w]) => op.matmul(a, w),
    );
    await gradCheck(
      [
        { name: 'a', shape: [4, 5] },
        { name: 'b', shape: [2, 5, 3] },
      ],
      ([a, b]) => op.matmul(a, b),
    );
  });

  it("a Linear layer's gradients with a symbolic batch axis equal those of the static shape", async () => {
    const rng = new Rng(4);
    const [xData, wData] = [70, 15].map((n) => Float64Array.from({ length: n }, () => rng.normal()));
    const run = async (batch: number | string) => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float64', [batch, 7, 5]);
      const w = b.input('w', 'float64', [5, 3]);
      const y = op.matmul(x, w);
      const loss = op.reduceSum(op.mul(y, y), [0, 1, 2], false);
      const grads = gradients(b, loss, [x, w]);
      b.output(grads.get('x')!, 'dx');
      b.output(grads.get('w')!, 'dw');
      const out = await (
        await createSession(b.toGraph('linear'))
      ).run({ x: tensor('float64', xData, [2, 7, 5]), w: tensor('float64', wData, [5, 3]) });
      return [out.dx.data, out.dw.data].map((d) => Array.from(d as Float64Array));
    };
    const [symbolic, fixed] = [await run('N'), await run(2)];
    expect(symbolic[0]).to.deep.equal(fixed[0]);
    symbolic[1].forEach((v, i) => expect(v).to.be.closeTo(fixed[1][i], 1e-12));
  });

  it('LayerNormalization (x, scale, bias) over the last axis and over the last two, float64 and float32', async () => {
    const offset = (name: string, shape: number[], dtype: 'float32' | 'float64') => {
      const rng = new Rng(9);
      const n = shape.reduce((a, d) => a * d, 1);
      const data = Array.from({ length: n }, () => 3 + rng.normal());
      return {
        name,
        shape,
        dtype,
        data: dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data),
      };
    };
    await gradCheck(
      [offset('x', [2, 3, 6], 'float64'), { name: 's', shape: [6] }, { name: 'b', shape: [6] }],
      ([x, s, b]) => op.layerNorm(x, s, b, 1e-6),
    );
    await gradCheck(
      [
        { name: 'x', shape: [3, 2, 4] },
        { name: 's', shape: [2, 4] },
        { name: 'b', shape: [2, 4] },
      ],
      ([x, s, b]) => op.layerNorm(x, s, b, 1e-5, 1),
    );
    await gradCheck(
      [offset('x', [2, 3, 8], 'float32'), t32('s', [8]), t32('b', [8])],
      ([x, s, b]) => op.layerNorm(x, s, b, 1e-6),
      f32,
    );
  });
});
