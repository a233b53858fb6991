// Conv: the input gradient is itself a convolution of the output gradient with the flipped,
// in/out-swapped kernel (no ConvTranspose for stride 1: ORT's is ~15x slower, design.md).
// Strided convs (2D ResNet encoders only) fall back to ConvTranspose for dX.
// The weight gradient has two exact forms (tools/bench-conv.ts measures them):
//  - 'stacked-matmul' (stride 1): one MatMul of shifted copies of x and g (below); ~1.4x the
//    forward conv on 1x16x32x112x112 where
//  - 'batch-conv' (any stride): a Conv with batch and channel axes swapped and g as the kernel,
//    takes ~3.7x: ORT's N-d im2col for a 112x112x32 kernel is slow.
// Rule: stacked-matmul for stride 1, batch-conv otherwise. UNILVSEG_CONV_DW_FORM=batch-conv or
// =stacked-matmul forces one form (for tests and benchmarks; stacked-matmul still needs stride 1).
import type { Dim } from '../../onnx/ir.js';
import type { Value } from '../../onnx/builder.js';
import { concat, matmul, pad, reduceSum, reshape, slice, transpose } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { spatialAxes } from './util.js';

function attrs(ctx: VjpContext, s: number) {
  return {
    strides: ctx.attr<number[]>('strides', Array(s).fill(1)),
    pads: ctx.attr<number[]>('pads', Array(2 * s).fill(0)),
    dilations: ctx.attr<number[]>('dilations', Array(s).fill(1)),
    group: ctx.attr<number>('group', 1),
  };
}

/** dX for stride 1: Conv(g, flip(w) with in/out swapped per group), padding k-1-p. */
function inputGradStride1(ctx: VjpContext, x: Value, w: Value, g: Value): Value {
  const s = x.rank - 2;
  const { pads, dilations, group } = attrs(ctx, s);
  const k = w.shape.slice(2).map(Number);
  const m = w.dim(0);
  const cg = w.dim(1);
  const axes = spatialAxes(w.rank);
  let wf = slice(w, axes.map(() => -1), axes.map(() => -(2 ** 62)), axes, axes.map(() => -1));
  // [M, C/g, K] -> [g, M/g, C/g, K] -> [g, C/g, M/g, K] -> [C, M/g, K]
  wf = reshape(wf, [group, m / group, cg, ...k]);
  wf = transpose(wf, [0, 2, 1, ...k.map((_, i) => i + 3)]);
  wf = reshape(wf, [group * cg, m / group, ...k]);
  const effK = k.map((kk, i) => dilations[i] * (kk - 1));
  const newPads = [...effK.map((e, i) => e - pads[i]), ...effK.map((e, i) => e - pads[i + s])];
  if (newPads.some((p) => p < 0)) throw new Error(`Conv ${ctx.node.name}: input gradient with padding larger than the kernel`);
  return ctx.b.node('Conv', [g, wf], { kernel_shape: k, pads: newPads, dilations, strides: Array(s).fill(1), group }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/** dX for strided convs: the transposed convolution, with output padding to restore x's size. */
function inputGradStrided(ctx: VjpContext, x: Value, w: Value, g: Value): Value {
  const s = x.rank - 2;
  const { strides, pads, dilations, group } = attrs(ctx, s);
  const k = w.shape.slice(2).map(Number);
  const outputPadding = k.map((kk, i) => {
    const full = (g.dim(2 + i) - 1) * strides[i] - pads[i] - pads[i + s] + dilations[i] * (kk - 1) + 1;
    return x.dim(2 + i) - full;
  });
  return ctx.b.node('ConvTranspose', [g, w], { kernel_shape: k, pads, strides, dilations, group, output_padding: outputPadding }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

export interface ConvGeometry {
  kernel: number[];
  strides: number[];
  /** [begin..., end...] as in ONNX */
  pads: number[];
  dilations: number[];
}

export type ConvWeightGradForm = 'batch-conv' | 'stacked-matmul';

/** The form the rule uses for a geometry (see the header); the env override wins where it applies. */
export function chooseWeightGradForm(geo: ConvGeometry): ConvWeightGradForm {
  const stride1 = geo.strides.every((v) => v === 1);
  const forced = process.env.UNILVSEG_CONV_DW_FORM;
  if (forced === 'batch-conv' || (forced === 'stacked-matmul' && stride1)) return forced;
  return stride1 ? 'stacked-matmul' : 'batch-conv';
}

/**
 * The weight gradient of an ungrouped Conv with input x [N, C, S] and output gradient g [N, M, O]:
 * dW[m, c, k] = sum_{n, o} g[n, m, o] x[n, c, o*stride + k*dilation - pad]  (x = 0 outside).
 * Returns [M, C, K].
 */
export function convWeightGradient(x: Value, g: Value, geo: ConvGeometry, form = chooseWeightGradForm(geo)): Value {
  return form === 'stacked-matmul' ? weightGradStacked(x, g, geo) : weightGradBatchConv(x, g, geo);
}

/** A conv over the batch axis: batch and channel axes swapped, g as the kernel. */
function weightGradBatchConv(x: Value, g: Value, geo: ConvGeometry): Value {
  const { kernel: k, strides, pads, dilations } = geo;
  const s = x.rank - 2;
  const swap = [1, 0, ...spatialAxes(x.rank)];
  const xt = transpose(x, swap); // [C, N, S]
  const gt = transpose(g, swap); // [M, N, O]
  const outK = k.map((_, i) => x.dim(2 + i) + pads[i] + pads[i + s] - strides[i] * (g.dim(2 + i) - 1));
  const dwt = x.b.node(
    'Conv',
    [xt, gt],
    { kernel_shape: g.shape.slice(2).map(Number), pads, strides: dilations, dilations: strides, group: 1 },
    [{ dtype: x.dtype, shape: [x.dim(1), g.dim(1), ...outK.map((o, i) => Math.floor((o - 1) / dilations[i]) + 1)] }],
  )[0];
  const cut = outK.some((o, i) => Math.floor((o - 1) / dilations[i]) + 1 !== k[i])
    ? slice(dwt, k.map(() => 0), k, spatialAxes(x.rank))
    : dwt;
  return transpose(cut, swap); // [M, C, K]
}

/** [N, C, ...] -> [C, N, ...]; a free reshape when N = 1. */
function channelsFirst(v: Value): Value {
  const perm = [1, 0, ...spatialAxes(v.rank)];
  return v.shape[0] === 1 ? reshape(v, perm.map((p) => v.shape[p])) : transpose(v, perm);
}

/**
 * Stride 1 only. In the zero-padded input xp, the first spatial axis (T) is kept and the others
 * are flattened into rows of length R, so a kernel offset (kt, kin) reads xp[t + kt*d0, r + off(kin)]
 * for the output position (t, r) of g laid out on the same padded grid (zeros where r is off g).
 * The inner offsets shift x (Kin sliced copies, stacked on the channel axis: x9 [Kin*C, L]); the
 * T offsets shift g (k0 padded copies: g3 [k0*M, L]); then ONE MatMul x9 · g3^T [Kin*C, k0*M] holds
 * every dW entry. Cost: (Kin + k0) copies (12 for 3x3x3) instead of im2col's 27, and a GEMM ORT
 * runs near its peak. Peak memory: Kin * |x| + k0 * |g| extra (~330 MB at 1x16x32x112x112).
 */
function weightGradStacked(x: Value, g: Value, geo: ConvGeometry): Value {
  const { kernel: k, pads, dilations: d } = geo;
  if (geo.strides.some((v) => v !== 1)) throw new Error('stacked-matmul weight gradient needs stride 1');
  const s = x.rank - 2;
  const [c, m, n] = [x.dim(1), g.dim(1), x.shape[0]];
  const out = g.shape.slice(2).map(Number);
  // ORT keeps output_padding < stride, so at stride 1 x + pads is exactly this grid.
  const padded = out.map((o, i) => o + d[i] * (k[i] - 1));
  // Row-major strides of the flattened inner axes (1..s-1) of the padded grid.
  const rowStride = padded.map((_, i) => padded.slice(i + 1).reduce((a, v) => a * v, 1));
  const r = rowStride[0];
  const f = out.slice(1).reduce((a, o, i) => a + (o - 1) * rowStride[i + 1], 0) + 1;
  const innerOffsets = k.slice(1).reduce<number[]>((acc, kk, i) => acc.flatMap((o) => Array.from({ length: kk }, (_, j) => o + j * d[i + 1] * rowStride[i + 1])), [0]);
  const l: Dim = typeof n === 'number' ? n * padded[0] * f : `${n}*${padded[0] * f}`;

  const xp = pad(channelsFirst(x), [0, 0, ...pads.slice(0, s), 0, 0, ...pads.slice(s)]);
  const xf = reshape(xp, [c, n, padded[0], r]);
  const shifted = innerOffsets.map((o) => (o === 0 && f === r ? xf : slice(xf, [o], [o + f], [3])));
  const x9 = reshape(shifted.length > 1 ? concat(shifted, 0) : shifted[0], [innerOffsets.length * c, l]);

  // g onto the padded inner grid: zeros at its end where x has the kernel's extra rows/columns.
  const gEnd = [0, 0, 0, ...padded.slice(1).map((p, i) => p - out[i + 1])];
  const gp = reshape(pad(channelsFirst(g), [...gEnd.map(() => 0), ...gEnd]), [m, n, out[0], r]);
  const gf = f === r ? gp : slice(gp, [0], [f], [3]);
  const taps = Array.from({ length: k[0] }, (_, j) => pad(gf, [0, 0, j * d[0], 0, 0, 0, (k[0] - 1 - j) * d[0], 0]));
  const g3 = reshape(taps.length > 1 ? concat(taps, 0) : taps[0], [k[0] * m, l]);

  // [Kin*C, k0*M] = [kin..., C, k0, M] -> [M, C, k0, kin...]
  const dw = reshape(matmul(x9, transpose(g3, [1, 0])), [...k.slice(1), c, k[0], m]);
  return transpose(dw, [s + 1, s - 1, s, ...Array.from({ length: s - 1 }, (_, i) => i)]);
}

function weightGrad(ctx: VjpContext, x: Value, w: Value, g: Value): Value {
  const { strides, pads, dilations, group } = attrs(ctx, x.rank - 2);
  if (group !== 1) throw new Error(`Conv ${ctx.node.name}: weight gradient for grouped convolution is not supported`);
  return convWeightGradient(x, g, { kernel: w.shape.slice(2).map(Number), strides, pads, dilations });
}

registerVjp('Conv', (ctx) => {
  const [x, w, bias] = ctx.inputs as Value[];
  const g = ctx.gradOutputs[0]!;
  const s = x.rank - 2;
  const stride1 = attrs(ctx, s).strides.every((v) => v === 1);
  return [
    ctx.needs[0] ? (stride1 ? inputGradStride1(ctx, x, w, g) : inputGradStrided(ctx, x, w, g)) : null,
    ctx.needs[1] ? weightGrad(ctx, x, w, g) : null,
    bias && ctx.needs[2] ? reduceSum(g, [0, ...spatialAxes(g.rank)], false) : null,
  ];
});
