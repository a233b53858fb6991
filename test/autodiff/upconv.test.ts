import { expect } from 'chai';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { numel } from '../../src/onnx/ir.js';
import * as op from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';
import { gradCheck } from '../helpers/gradcheck.js';

// ORT runs Conv/ConvTranspose in float32 only: finite differences as in nn.test.ts.
const f32 = { eps: 1e-2, rtol: 2e-3, atol: 1e-3 };
const t = (name: string, shape: number[], extra = {}) => ({
  name,
  shape,
  dtype: 'float32' as const,
  ...extra,
});

const upAttrs = (s: number) => ({
  strides: Array(s).fill(2),
  pads: Array(2 * s).fill(1),
  outputPadding: Array(s).fill(1),
});

async function maxDiffToConvTranspose(
  xShape: number[],
  cout: number,
  withBias: boolean,
  batch: number | 'N',
): Promise<number> {
  const s = xShape.length - 2;
  const rng = new Rng(7);
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [batch, ...xShape.slice(1)]);
  const w = b.input('w', 'float32', [xShape[1], cout, ...Array(s).fill(3)]);
  const bias = withBias ? b.input('bias', 'float32', [cout]) : null;
  b.output(op.upConvStride2(x, w, bias), 'sub_pixel');
  b.output(op.convTranspose(x, w, bias, upAttrs(s)), 'reference');
  const session = await createSession(b.toGraph('upconv-vs-convtranspose'));
  const feeds: Record<string, ReturnType<typeof tensor>> = {};
  for (const v of [x, w, ...(bias ? [bias] : [])]) {
    const dims = v === x ? xShape : v.shape.map(Number);
    feeds[v.name] = tensor(
      'float32',
      Float32Array.from({ length: numel(dims) }, () => rng.normal()),
      dims,
    );
  }
  const out = await session.run(feeds);
  const a = out.sub_pixel.data as Float32Array;
  const r = out.reference.data as Float32Array;
  expect(out.sub_pixel.dims).to.deep.equal(out.reference.dims);
  expect(out.sub_pixel.dims.slice(2)).to.deep.equal(xShape.slice(2).map((n) => 2 * n));
  let worst = 0;
  for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(a[i] - r[i]));
  return worst;
}

describe('upConvStride2: sub-pixel form of ConvTranspose k3 s2 p1 op1', () => {
  it('equals ORT ConvTranspose in 2D (odd and even sizes, with and without bias)', async () => {
    expect(await maxDiffToConvTranspose([2, 3, 5, 6], 4, true, 2)).to.be.below(1e-5);
    expect(await maxDiffToConvTranspose([1, 4, 4, 7], 2, false, 1)).to.be.below(1e-5);
  });
  it('equals ORT ConvTranspose in 3D (odd and even sizes, symbolic batch)', async () => {
    expect(await maxDiffToConvTranspose([2, 3, 3, 4, 5], 2, true, 'N')).to.be.below(1e-5);
    expect(await maxDiffToConvTranspose([1, 2, 4, 2, 3], 3, false, 'N')).to.be.below(1e-5);
  });
  it('gradients of x, w and bias match finite differences (2D and 3D)', async () => {
    await gradCheck(
      [t('x', [2, 3, 3, 4]), t('w', [3, 2, 3, 3]), t('b', [2])],
      ([x, w, b]) => op.upConvStride2(x, w, b),
      f32,
    );
    await gradCheck(
      [t('x', [1, 2, 3, 2, 3]), t('w', [2, 3, 3, 3, 3]), t('b', [3])],
      ([x, w, b]) => op.upConvStride2(x, w, b),
      f32,
    );
  });
  it('rejects weights that are not 3x3(x3)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    expect(() => op.upConvStride2(x, b.input('w', 'float32', [2, 2, 2, 2]), null)).to.throw(/weight must be/);
  });
});

describe('VJP rule: ConvTranspose (finite differences, float32)', () => {
  it('2D stride 1 with padding and bias; stride 1 with dilation', async () => {
    await gradCheck(
      [t('x', [2, 3, 4, 5]), t('w', [3, 2, 3, 3]), t('b', [2])],
      ([x, w, b]) => op.convTranspose(x, w, b, { pads: [1, 0, 1, 2] }),
      f32,
    );
    await gradCheck(
      [t('x', [1, 2, 4, 4]), t('w', [2, 3, 3, 2])],
      ([x, w]) => op.convTranspose(x, w, null, { dilations: [2, 1], pads: [1, 1, 0, 0] }),
      f32,
    );
  });
  it('2D stride 2 with output_padding (odd and even sizes), and a grouped input gradient', async () => {
    await gradCheck(
      [t('x', [1, 2, 3, 4]), t('w', [2, 3, 3, 3]), t('b', [3])],
      ([x, w, b]) =>
        op.convTranspose(x, w, b, { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }),
      f32,
    );
    await gradCheck(
      [t('x', [2, 2, 5, 4]), t('w', [2, 2, 4, 3])],
      ([x, w]) =>
        op.convTranspose(x, w, null, { strides: [2, 3], pads: [1, 0, 1, 1], outputPadding: [0, 2] }),
      f32,
    );
    await gradCheck(
      [t('x', [1, 4, 3, 3]), t('w', [4, 1, 3, 3], { wrt: false })],
      ([x, w]) => op.convTranspose(x, w, null, { strides: [2, 2], group: 2 }),
      f32,
    );
  });
  it('3D stride 1 and stride 2 with output_padding', async () => {
    await gradCheck(
      [t('x', [1, 2, 3, 3, 4]), t('w', [2, 2, 3, 3, 3]), t('b', [2])],
      ([x, w, b]) => op.convTranspose(x, w, b, { pads: [1, 1, 1, 1, 1, 1] }),
      f32,
    );
    await gradCheck(
      [t('x', [2, 3, 2, 3, 3]), t('w', [3, 2, 3, 3, 3])],
      ([x, w]) =>
        op.convTranspose(x, w, null, {
          strides: [2, 2, 2],
          pads: [1, 1, 1, 1, 1, 1],
          outputPadding: [1, 0, 1],
        }),
      f32,
    );
  });
  it('output_shape instead of pads (pads derived as ONNX does)', async () => {
    await gradCheck(
      [t('x', [1, 2, 3, 3]), t('w', [2, 2, 3, 3])],
      ([x, w]) => {
        const y = x.b.node(
          'ConvTranspose',
          [x, w],
          { kernel_shape: [3, 3], strides: [2, 2], output_shape: [6, 6] },
          [{ dtype: 'float32', shape: [1, 2, 6, 6] }],
        )[0];
        return y;
      },
      f32,
    );
  });
});
