import { expect } from 'chai';
import { gradients } from '../../src/autodiff/grad.js';
import {
  chooseDepthwiseForm,
  chooseWeightGradForm,
  convWeightGradient,
  depthwiseWeightGradient,
  offsetSplit,
  type ConvGeometry,
  type DepthwiseWeightGradForm,
} from '../../src/autodiff/rules/conv.js';
import type { ConvWeightGradForm } from '../../src/onnx/forms.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { numel } from '../../src/onnx/ir.js';
import { conv, reduceSum } from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

const FORMS: ConvWeightGradForm[] = ['stacked-matmul', 'batch-conv'];
const DEPTHWISE_FORMS: DepthwiseWeightGradForm[] = ['stacked', 'taps'];

/** Small integers: every product and partial sum is exact in float32, so any summation order gives the same bits. */
function integers(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.int(-3, 3));
}

/** dW[m, c, k] = sum_{n, o} g[n, m, o] x[n, c, o*stride + k*d - pad] by plain loops. */
function referenceWeightGrad(
  x: Float32Array,
  xs: number[],
  g: Float32Array,
  gs: number[],
  geo: ConvGeometry,
): Float32Array {
  const [n, c, m] = [xs[0], xs[1], gs[1]];
  const kSize = numel(geo.kernel);
  const oSize = numel(gs.slice(2));
  const out = new Float32Array(m * c * kSize);
  const unravel = (i: number, dims: number[]) =>
    dims.map((_, a) => Math.floor(i / numel(dims.slice(a + 1))) % dims[a]);
  for (let kk = 0; kk < kSize; kk++) {
    const kIdx = unravel(kk, geo.kernel);
    for (let o = 0; o < oSize; o++) {
      const oIdx = unravel(o, gs.slice(2));
      const xIdx = oIdx.map((v, a) => v * geo.strides[a] + kIdx[a] * geo.dilations[a] - geo.pads[a]);
      if (xIdx.some((v, a) => v < 0 || v >= xs[2 + a])) continue;
      const xOff = xIdx.reduce((acc, v, a) => acc * xs[2 + a] + v, 0);
      for (let b = 0; b < n; b++)
        for (let mm = 0; mm < m; mm++)
          for (let cc = 0; cc < c; cc++)
            out[(mm * c + cc) * kSize + kk] +=
              g[(b * m + mm) * oSize + o] * x[(b * c + cc) * numel(xs.slice(2)) + xOff];
    }
  }
  return out;
}

async function compareForms(
  xs: number[],
  m: number,
  geo: ConvGeometry,
  symbolicBatch = false,
): Promise<void> {
  const s = xs.length - 2;
  const gs = [
    xs[0],
    m,
    ...xs.slice(2).map((v, i) => v + geo.pads[i] + geo.pads[i + s] - geo.dilations[i] * (geo.kernel[i] - 1)),
  ];
  const b = new GraphBuilder();
  const batch = symbolicBatch ? 'N' : xs[0];
  const x = b.input('x', 'float32', [batch, ...xs.slice(1)]);
  const g = b.input('g', 'float32', [batch, ...gs.slice(1)]);
  for (const form of FORMS) b.output(convWeightGradient(x, g, geo, form), form);
  const session = await createSession(b.toGraph('dw-forms'));
  const rng = new Rng(3);
  const xd = integers(numel(xs), rng);
  const gd = integers(numel(gs), rng);
  const out = await session.run({ x: tensor('float32', xd, xs), g: tensor('float32', gd, gs) });
  const reference = referenceWeightGrad(xd, xs, gd, gs, geo);
  expect(reference.some((v) => v !== 0)).to.equal(true);
  for (const form of FORMS) {
    expect(out[form].dims, form).to.deep.equal([m, xs[1], ...geo.kernel]);
    expect(Array.from(out[form].data as Float32Array), form).to.deep.equal(Array.from(reference));
  }
}

const geo = (kernel: number[], pads: number[], dilations = kernel.map(() => 1)): ConvGeometry => ({
  kernel,
  pads,
  dilations,
  strides: kernel.map(() => 1),
});

describe('Conv weight gradient: every form gives exactly the same numbers (integer data)', () => {
  it('3D 3x3x3, padding 1, batch 1 (the UNet3D case, small)', async () => {
    await compareForms([1, 3, 4, 5, 6], 4, geo([3, 3, 3], [1, 1, 1, 1, 1, 1]));
  });
  it('3D, batch 2 (also symbolic), asymmetric padding, Cin != Cout', async () => {
    await compareForms([2, 2, 3, 4, 5], 3, geo([3, 3, 3], [1, 0, 1, 1, 2, 0]));
    await compareForms([2, 2, 3, 4, 5], 3, geo([3, 3, 3], [1, 0, 1, 1, 2, 0]), true);
  });
  it('how the offsets split follows the channels: Cin > Cout (g takes T and H shifts), Cin = 1 (x takes all)', async () => {
    await compareForms([2, 6, 3, 4, 3], 2, geo([3, 3, 3], [1, 1, 1, 1, 1, 1]), true);
    await compareForms([1, 1, 5, 6], 8, geo([3, 3], [1, 1, 1, 1]));
  });
  it("many channels on a tiny volume: every offset on x's side (no dW transpose), the UNet3D bottleneck's case", async () => {
    // UNet3D levels (C = M, 3x3x3, padded volume per sample): the finest split 3 g / 9 x copies,
    // the 256-channel 2x7x7 bottleneck all 27 on x, where dW's transpose would cost more.
    const split = (ch: number, t: number, h: number) =>
      offsetSplit(ch, ch, [3, 3, 3], (t + 2) * (h + 2) * (h + 2));
    expect([split(16, 32, 112), split(128, 4, 14), split(256, 2, 7)]).to.deep.equal([1, 1, 0]);
    expect(offsetSplit(32, 32, [3, 3, 3], 4 * 5 * 5)).to.equal(0);
    await compareForms([1, 32, 2, 3, 3], 32, geo([3, 3, 3], [1, 1, 1, 1, 1, 1]));
  });
  it('2D: non-square kernel, dilation, no padding; 1x1 kernel; 1D', async () => {
    await compareForms([1, 2, 7, 6], 3, geo([3, 2], [0, 1, 0, 0], [2, 1]));
    await compareForms([2, 3, 4, 5], 2, geo([1, 1], [0, 0, 0, 0]));
    await compareForms([2, 3, 4, 5], 2, geo([1, 1], [1, 0, 2, 1]), true);
    await compareForms([2, 3, 9], 2, geo([3], [1, 1]));
  });
  it('chooses stacked-matmul for stride 1 and batch-conv for strided convs; a forced form applies where it can', () => {
    const strided = { ...geo([3, 3], [1, 1, 1, 1]), strides: [2, 2] };
    expect(chooseWeightGradForm(geo([3, 3, 3], [1, 1, 1, 1, 1, 1]))).to.equal('stacked-matmul');
    expect(chooseWeightGradForm(strided)).to.equal('batch-conv');
    expect(chooseWeightGradForm(geo([3, 3], [1, 1, 1, 1]), 'batch-conv')).to.equal('batch-conv');
    expect(chooseWeightGradForm(strided, 'stacked-matmul')).to.equal('batch-conv');
  });
});

/**
 * Depthwise (group = C, one input channel per group, M = C * multiplier): the plain-loop sum of
 * each channel's slab, against depthwiseWeightGradient on integer data (exact in any order).
 */
async function compareDepthwise(xs: number[], multiplier: number, g: ConvGeometry, symbolicBatch = false) {
  const [n, c] = xs;
  const s = xs.length - 2;
  const m = c * multiplier;
  const outSpatial = xs
    .slice(2)
    .map(
      (v, i) =>
        Math.floor((v + g.pads[i] + g.pads[i + s] - g.dilations[i] * (g.kernel[i] - 1) - 1) / g.strides[i]) +
        1,
    );
  const gs = [n, m, ...outSpatial];
  const b = new GraphBuilder();
  const batch = symbolicBatch ? 'N' : n;
  const x = b.input('x', 'float32', [batch, ...xs.slice(1)]);
  const gv = b.input('g', 'float32', [batch, ...gs.slice(1)]);
  for (const form of DEPTHWISE_FORMS) b.output(depthwiseWeightGradient(x, gv, g, form), form);
  const rng = new Rng(8);
  const [xd, gd] = [integers(numel(xs), rng), integers(numel(gs), rng)];
  const out = await (
    await createSession(b.toGraph('depthwise'))
  ).run({
    x: tensor('float32', xd, xs),
    g: tensor('float32', gd, gs),
  });
  // channel j's slab of x against its `multiplier` slabs of g, through the ungrouped reference
  const slab = (data: Float32Array, dims: number[], from: number, count: number) => {
    const plane = numel(dims.slice(2));
    return Float32Array.from({ length: dims[0] * count * plane }, (_, i) => {
      const [k, rest] = [Math.floor(i / (count * plane)), i % (count * plane)];
      return data[(k * dims[1] + from) * plane + rest];
    });
  };
  const expected: number[] = [];
  for (let j = 0; j < c; j++) {
    const xj = slab(xd, xs, j, 1);
    const gj = slab(gd, gs, j * multiplier, multiplier);
    const strided = referenceWeightGrad(xj, [n, 1, ...xs.slice(2)], gj, [n, multiplier, ...outSpatial], g);
    expected.push(...strided);
  }
  expect(expected.some((v) => v !== 0)).to.equal(true);
  for (const form of DEPTHWISE_FORMS) {
    expect(out[form].dims, form).to.deep.equal([m, 1, ...g.kernel]);
    expect(Array.from(out[form].data as Float32Array), form).to.deep.equal(expected);
  }
}

describe('Depthwise conv weight gradient: both forms (shifted copies and one batched MatMul; per-tap products) give exactly the plain-loop sums (integer data)', () => {
  it("UniFormer's 3x3 (pad 1, batch 1) and 5x5 (pad 2, batch 3, also symbolic)", async () => {
    await compareDepthwise([1, 4, 6, 7], 1, geo([3, 3], [1, 1, 1, 1]));
    await compareDepthwise([3, 5, 7, 6], 1, geo([5, 5], [2, 2, 2, 2]));
    await compareDepthwise([3, 5, 7, 6], 1, geo([5, 5], [2, 2, 2, 2]), true);
  });
  it('channel multiplier 2 with dilation 2 and asymmetric padding, at stride 1 and 2 (taps only); 1x1; 3D', async () => {
    await compareDepthwise([2, 3, 9, 8], 2, geo([3, 3], [1, 0, 2, 1], [2, 1]));
    await compareDepthwise([2, 3, 9, 8], 2, { ...geo([3, 3], [1, 0, 2, 1], [2, 1]), strides: [2, 1] });
    await compareDepthwise([2, 3, 4, 5], 1, geo([1, 1], [0, 0, 0, 0]));
    await compareDepthwise([2, 2, 3, 4, 5], 1, geo([3, 3, 3], [1, 1, 1, 1, 1, 1]));
  });
  it("the Conv rule's depthwise weight gradient: the same nodes for 8 and for 512 channels (3x3: taps, at most 33; 5x5: copies, at most 40)", () => {
    const gradientNodes = (c: number, k: number) => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', ['N', c, 16, 16]);
      const w = b.input('w', 'float32', [c, 1, k, k]);
      const y = conv(x, w, null, { pads: Array(4).fill((k - 1) / 2), group: c });
      const convNode = b.nodes[b.nodes.length - 1].name;
      gradients(b, reduceSum(y, [0, 1, 2, 3], false), [w]);
      return b.nodes.filter((n) => n.name.startsWith(`grad:${convNode}/`)).map((n) => n.op);
    };
    for (const [k, most] of [
      [3, 3 * 9 + 6], // Slice, Mul, ReduceSum per tap; Pad, Concat, reshapes
      [5, 40], // 5 + 5 copies, each with its Unsqueeze; Pads, Concats, reshapes, one MatMul
    ]) {
      const [few, many] = [gradientNodes(8, k), gradientNodes(512, k)];
      expect(few, `${k}x${k}`).to.deep.equal(many);
      expect(few.length, `${k}x${k}`).to.be.at.most(most);
      expect(few.includes('MatMul'), `${k}x${k}`).to.equal(k === 5);
    }
  });
  it('chooses per-tap products for 3x3 and strided kernels, shifted copies for stride-1 5x5', () => {
    expect(chooseDepthwiseForm(geo([3, 3], [1, 1, 1, 1]))).to.equal('taps');
    expect(chooseDepthwiseForm(geo([5, 5], [2, 2, 2, 2]))).to.equal('stacked');
    expect(chooseDepthwiseForm({ ...geo([5, 5], [2, 2, 2, 2]), strides: [2, 2] })).to.equal('taps');
  });
});
