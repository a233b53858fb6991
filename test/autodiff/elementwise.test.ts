import { expect } from 'chai';
import * as op from '../../src/onnx/ops/index.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { numel } from '../../src/onnx/ir.js';

// float64 throughout: ORT runs these ops in double, so tolerances are tight.
describe('VJP rules: pointwise and broadcasting ops (finite differences, float64)', () => {
  const x = { name: 'x', shape: [2, 3, 4] };
  const yb = { name: 'y', shape: [3, 1] };
  const positive = (name: string, shape: number[]) => ({
    name,
    shape,
    data: Float64Array.from({ length: numel(shape) }, (_, i) => 0.5 + ((i * 37) % 11) / 7),
  });

  it('Add / Sub / Mul / Div with broadcasting', async () => {
    await gradCheck([x, yb], ([a, b]) => op.add(a, b));
    await gradCheck([x, yb], ([a, b]) => op.sub(a, b));
    await gradCheck([x, yb], ([a, b]) => op.mul(a, b));
    await gradCheck([x, positive('y', [3, 1])], ([a, b]) => op.div(a, b));
  });
  it('Sum of three (one gradient per input)', async () => {
    await gradCheck([x, yb, { name: 'z', shape: [4] }], (v) => op.sum(v));
  });
  it('a value used twice gets both contributions', async () => {
    await gradCheck([x], ([a]) => op.mul(op.add(a, 1), op.sigmoid(a)));
  });
  it('Relu, Sigmoid, Neg, Exp, Log, Sqrt, Reciprocal, Softplus', async () => {
    const shifted = {
      name: 'x',
      shape: [3, 5],
      data: Float64Array.from({ length: 15 }, (_, i) => (i - 7.3) / 3),
    };
    await gradCheck([shifted], ([a]) => op.relu(a));
    await gradCheck([x], ([a]) => op.sigmoid(a));
    await gradCheck([x], ([a]) => op.neg(a));
    await gradCheck([x], ([a]) => op.exp(a));
    await gradCheck([positive('x', [2, 3])], ([a]) => op.log(a));
    await gradCheck([positive('x', [2, 3])], ([a]) => op.sqrt(a));
    await gradCheck([positive('x', [2, 3])], ([a]) => op.reciprocal(a));
    await gradCheck([x], ([a]) => a.b.node('Softplus', [a], {}, [{ dtype: a.dtype, shape: a.shape }])[0]);
  });
  it('Pow with a constant exponent', async () => {
    await gradCheck([positive('x', [2, 3])], ([a]) => op.pow(a, 2.5));
  });
  it('PRelu with one shared slope and with per-channel slopes', async () => {
    const xs = {
      name: 'x',
      shape: [2, 3, 4],
      data: Float64Array.from({ length: 24 }, (_, i) => (i % 7) - 3.1),
    };
    await gradCheck([xs, { name: 's', shape: [1] }], ([a, s]) => op.prelu(a, s));
    await gradCheck([xs, { name: 's', shape: [3, 1] }], ([a, s]) => op.prelu(a, s));
  });
  it('Where (no gradient into the condition), Cast float32 <-> float64', async () => {
    await gradCheck([x, yb], ([a, b]) => op.where(op.greater(a, 0), a, op.mul(b, 2)));
    await gradCheck(
      [{ name: 'x', shape: [2, 3], dtype: 'float32' as const }],
      ([a]) => op.cast(a, 'float64'),
      { eps: 1e-2, rtol: 1e-3, atol: 1e-4 },
    );
  });
  it('a parameter the loss does not reach gets a zero gradient', async () => {
    const { GraphBuilder } = await import('../../src/onnx/builder.js');
    const { gradients } = await import('../../src/autodiff/grad.js');
    const { createSession, tensor } = await import('../../src/onnx/runtime.js');
    const b = new GraphBuilder();
    const [a, unused] = [b.input('a', 'float64', [2]), b.input('unused', 'float64', [3])];
    const loss = op.reduceSum(op.mul(a, a), [0], false);
    b.output(loss, 'loss');
    const g = gradients(b, loss, [a, unused]);
    b.output(g.get('unused')!, 'unused.grad');
    const out = await (
      await createSession(b.toGraph('zero'))
    ).run({
      a: tensor('float64', Float64Array.of(1, 2), [2]),
      unused: tensor('float64', Float64Array.of(5, 6, 7), [3]),
    });
    expect(Array.from(out['unused.grad'].data as Float64Array)).to.deep.equal([0, 0, 0]);
  });
  it('an unused branch emits nothing and does not break', async () => {
    await gradCheck([x, yb], ([a, b]) => {
      op.exp(b); // computed but never used by the loss
      return op.mul(a, 3);
    });
  });
});
