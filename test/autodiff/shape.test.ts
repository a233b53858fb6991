import { expect } from 'chai';
import * as op from '../../src/onnx/ops/index.js';
import type { Value } from '../../src/onnx/builder.js';
import { numel } from '../../src/onnx/ir.js';
import { gradCheck } from '../helpers/gradcheck.js';

describe('VJP rules: layout ops (finite differences, float64)', () => {
  const x = { name: 'x', shape: [2, 3, 4] };
  it('Reshape, Unsqueeze, Squeeze, Transpose', async () => {
    await gradCheck([x], ([a]) => op.reshape(a, [6, 4]));
    await gradCheck([x], ([a]) => op.squeeze(op.unsqueeze(a, [1]), [1]));
    await gradCheck([x], ([a]) => op.unsqueeze(a, [0, 3]));
    await gradCheck([x], ([a]) => op.transpose(a, [2, 0, 1]));
  });
  it('Flatten at every axis (also negative) and Identity', async () => {
    // No builder op emits Flatten (models reshape), but the rule serves imported graphs too.
    const flatten = (a: Value, axis: number) => {
      const k = axis < 0 ? axis + a.rank : axis;
      const dims = a.shape.map(Number);
      const shape = [numel(dims.slice(0, k)), numel(dims.slice(k))];
      return a.b.node('Flatten', [a], { axis }, [{ dtype: a.dtype, shape }])[0];
    };
    for (const axis of [0, 1, 2, 3, -1]) await gradCheck([x], ([a]) => flatten(a, axis));
    await gradCheck([x], ([a]) => op.mul(op.identity(a), op.identity(a)));
  });
  it('Concat of three along the middle axis', async () => {
    await gradCheck([x, { name: 'y', shape: [2, 1, 4] }, { name: 'z', shape: [2, 2, 4] }], (v) =>
      op.concat(v, 1),
    );
  });
  it('Slice (unit steps, negative and clamped bounds) and Pad', async () => {
    await gradCheck([x], ([a]) => op.slice(a, [1, -3], [3, 100], [1, 2]));
    await gradCheck([x], ([a]) => op.pad(a, [0, 1, 2, 1, 0, 3]));
  });
  it('ReduceSum and ReduceMean, with and without keepdims', async () => {
    await gradCheck([x], ([a]) => op.reduceSum(a, [0, 2], true));
    await gradCheck([x], ([a]) => op.reduceSum(a, [1], false));
    await gradCheck([x], ([a]) => op.reduceMean(a, [2], true));
    await gradCheck([x], ([a]) => op.reduceMean(a, [0, 1], false));
  });
  it('ReduceMean over a symbolic batch axis (element count taken at run time)', async () => {
    const { GraphBuilder } = await import('../../src/onnx/builder.js');
    const { gradients } = await import('../../src/autodiff/grad.js');
    const { createSession, tensor } = await import('../../src/onnx/runtime.js');
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', ['N', 3]);
    const loss = op.reduceSum(op.mul(op.reduceMean(x, [0, 1], false), 6), [], false);
    b.output(loss, 'loss');
    b.output(gradients(b, loss, [x]).get('x')!, 'x.grad');
    const s = await createSession(b.toGraph('mean'));
    const out = await s.run({ x: tensor('float64', new Float64Array(12), [4, 3]) });
    // d(6 * mean over 12 elements) / dx = 6 / 12 everywhere.
    expect(Array.from(out['x.grad'].data as Float64Array)).to.deep.equal(new Array(12).fill(0.5));
  });
  it('Expand', async () => {
    await gradCheck(
      [
        { name: 'x', shape: [3, 1] },
        { name: 'like', shape: [2, 3, 4], wrt: false },
      ],
      ([a, like]) => op.expandAs(a, like),
    );
  });
  it('Resize nearest x2 (float32: ORT resizes floats only)', async () => {
    await gradCheck(
      [{ name: 'x', shape: [1, 2, 3, 4], dtype: 'float32' as const }],
      ([a]) => op.resizeNearest(a, [1, 1, 2, 2]),
      { eps: 1e-1, rtol: 1e-4, atol: 1e-4 },
    );
  });
  it('Gather and GatherElements, with repeated indices', async () => {
    const idx = { name: 'i', shape: [3], dtype: 'int64' as const, data: BigInt64Array.from([2n, 0n, 2n]) };
    await gradCheck([x, idx], ([a, i]) => op.gather(a, i, 2));
    const idx2 = {
      name: 'i',
      shape: [2, 1, 4],
      dtype: 'int64' as const,
      data: BigInt64Array.from([0n, 2n, 1n, 2n, 2n, 2n, 0n, 1n]),
    };
    await gradCheck([x, idx2], ([a, i]) => op.gatherElements(a, i, 1));
  });
  it('DepthToSpace (DCR) and SpaceToDepth (float32: layout moves only, so exact)', async () => {
    const f32 = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' as const });
    await gradCheck([f32('x', [2, 8, 3, 2])], ([a]) => op.depthToSpace(a, 2), {
      eps: 1e-1,
      rtol: 1e-4,
      atol: 1e-4,
    });
    for (const form of ['op', 'reshape-transpose'] as const)
      await gradCheck([f32('x', [1, 2, 4, 6])], ([a]) => op.spaceToDepth(a, 2, form), {
        eps: 1e-1,
        rtol: 1e-4,
        atol: 1e-4,
      });
  });
  it('MatMul', async () => {
    await gradCheck(
      [
        { name: 'a', shape: [3, 4] },
        { name: 'b', shape: [4, 2] },
      ],
      ([a, b]) => op.matmul(a, b),
    );
  });
});

describe('depthToSpace / spaceToDepth', () => {
  it('moves channel (i*b + j)*C + c to row h*b + i, column w*b + j, and spaceToDepth undoes it in both forms', async () => {
    const { GraphBuilder } = await import('../../src/onnx/builder.js');
    const { createSession, tensor } = await import('../../src/onnx/runtime.js');
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 8, 2, 3]);
    const y = op.depthToSpace(x, 2);
    b.output(y, 'y');
    b.output(op.spaceToDepth(y, 2, 'op'), 'back');
    b.output(op.spaceToDepth(y, 2, 'reshape-transpose'), 'back2');
    const data = Float32Array.from({ length: 48 }, (_, i) => i);
    const out = await (
      await createSession(b.toGraph('d2s'))
    ).run({ x: tensor('float32', data, [1, 8, 2, 3]) });
    expect(out.y.dims).to.deep.equal([1, 2, 4, 6]);
    const yd = out.y.data as Float32Array;
    for (let c = 0; c < 2; c++)
      for (let h = 0; h < 2; h++)
        for (let w = 0; w < 3; w++)
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 2; j++)
              expect(yd[(c * 4 + h * 2 + i) * 6 + w * 2 + j]).to.equal(
                data[(((i * 2 + j) * 2 + c) * 2 + h) * 3 + w],
              );
    expect(Array.from(out.back.data as Float32Array)).to.deep.equal(Array.from(data));
    expect(Array.from(out.back2.data as Float32Array)).to.deep.equal(Array.from(data));
  });
});
