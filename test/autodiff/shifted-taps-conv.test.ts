import { expect } from 'chai';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { numel } from '../../src/onnx/ir.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';
import { gradCheck } from '../helpers/gradcheck.js';

const f32 = { eps: 1e-2, rtol: 2e-3, atol: 1e-3 };
const t = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' as const });

async function maxDiffToConv(
  xShape: number[],
  wShape: number[],
  pads: number[],
  batch: number | 'N',
  cut: op.ShiftedTapsCut = 'split-sum',
): Promise<number> {
  const rng = new Rng(3);
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [batch, ...xShape.slice(1)]);
  const w = b.input('w', 'float32', wShape);
  const bias = b.input('bias', 'float32', [wShape[0]]);
  b.output(op.shiftedTapsConv(x, w, bias, { pads }, cut), 'taps');
  b.output(op.conv(x, w, bias, { pads }), 'reference');
  const out = await (
    await createSession(b.toGraph('taps-vs-conv'))
  ).run(
    Object.fromEntries(
      (
        [
          ['x', xShape],
          ['w', wShape],
          ['bias', [wShape[0]]],
        ] as [string, number[]][]
      ).map(([n, d]) => [
        n,
        tensor(
          'float32',
          Float32Array.from({ length: numel(d) }, () => rng.normal()),
          d,
        ),
      ]),
    ),
  );
  expect(out.taps.dims).to.deep.equal(out.reference.dims);
  const [a, r] = [out.taps.data as Float32Array, out.reference.data as Float32Array];
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - r[i])), 0);
}

describe('shiftedTapsConv: Conv as a 1x1 Conv to one channel per tap plus shifted sums', () => {
  it('equals ORT Conv in 3D (same padding, symbolic batch) and 2D (asymmetric padding, 2 outputs), in both cuts of the taps', async () => {
    for (const cut of ['split-sum', 'slice-add'] as const) {
      expect(await maxDiffToConv([2, 5, 3, 6, 7], [1, 5, 3, 3, 3], [1, 1, 1, 1, 1, 1], 'N', cut)).to.be.below(
        1e-4,
      );
      expect(await maxDiffToConv([1, 3, 6, 5], [2, 3, 3, 2], [0, 1, 2, 0], 1, cut)).to.be.below(1e-4);
    }
  });
  it('gradients of x, w and bias match finite differences', async () => {
    await gradCheck(
      [t('x', [2, 3, 3, 4, 3]), t('w', [1, 3, 3, 3, 3]), t('b', [1])],
      ([x, w, b]) => op.shiftedTapsConv(x, w, b, { pads: [1, 1, 1, 1, 1, 1] }),
      f32,
    );
  });
  it('rejects strided convs', () => {
    const b = new GraphBuilder();
    expect(() =>
      op.shiftedTapsConv(b.input('x', 'float32', [1, 2, 4, 4]), b.input('w', 'float32', [1, 2, 3, 3]), null, {
        strides: [2, 2],
      }),
    ).to.throw(/stride 1/);
  });
});

describe('VJP rule: Split', () => {
  it("concatenates the pieces' gradients, zeros for an unused piece (float64)", async () => {
    await gradCheck([{ name: 'x', shape: [2, 5, 3] }], ([x]) => {
      const [a, , c] = op.split(x, 1, [2, 1, 2]);
      return op.mul(a, c);
    });
  });
});
