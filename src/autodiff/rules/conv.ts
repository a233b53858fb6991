// Conv: the input gradient is itself a convolution of the output gradient with the flipped,
// in/out-swapped kernel (no ConvTranspose for stride 1: ORT's is ~15x slower,
// docs/performance.md#conv-input-gradient). Strided convs (2D ResNet encoders only) fall back to
// ConvTranspose for dX. The weight gradient has two exact forms (tools/bench-conv.ts measures them):
//  - 'stacked-matmul' (stride 1 only): one MatMul of shifted copies of x and g (below); about
//    1.3-1.7x the forward conv on 1x16x32x112x112 (2 threads), never clearly slower than
//    batch-conv on any UNet3D level (a tie at 2x7x7, where both are a few ms); for a 1x1 kernel
//    it needs no copies at all (weightGradPointwise);
//  - 'batch-conv' (any stride): a Conv with batch and channel axes swapped and g as the kernel,
//    about 3-4x the forward: ORT's N-d im2col for a 32x112x112 kernel is slow.
// Rule: stacked-matmul for stride 1, batch-conv for strided convs; GraphForms.convWeightGrad
// forces a form (tests, benchmarks; stacked-matmul still needs stride 1).
import { numel, type Dim } from '../../onnx/ir.js';
import type { Value } from '../../onnx/builder.js';
import type { ConvWeightGradForm } from '../../onnx/forms.js';
import {
  concat,
  fillConvOpts,
  matmul,
  mul,
  pad,
  reduceSum,
  reshape,
  slice,
  transpose,
  unsqueeze,
} from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { spatialAxes } from './util.js';

/** The node's strides, pads, dilations and group, with ONNX's defaults (one definition: nn.ts). */
export function convAttrs(ctx: VjpContext) {
  return fillConvOpts(ctx.inputs[0].rank, ctx.node.attrs);
}

/** dX for stride 1: Conv(g, flip(w) with in/out swapped per group), padding k-1-p. */
function inputGradStride1(ctx: VjpContext, x: Value, w: Value, g: Value): Value {
  const s = x.rank - 2;
  const { pads, dilations, group } = convAttrs(ctx);
  const k = w.shape.slice(2).map(Number);
  const m = w.dim(0);
  const cg = w.dim(1);
  const axes = spatialAxes(w.rank);
  let wf = slice(
    w,
    axes.map(() => -1),
    axes.map(() => -(2 ** 62)),
    axes,
    axes.map(() => -1),
  );
  // [M, C/g, K] -> [g, M/g, C/g, K] -> [g, C/g, M/g, K] -> [C, M/g, K]
  wf = reshape(wf, [group, m / group, cg, ...k]);
  wf = transpose(wf, [0, 2, 1, ...k.map((_, i) => i + 3)]);
  wf = reshape(wf, [group * cg, m / group, ...k]);
  const effK = k.map((kk, i) => dilations[i] * (kk - 1));
  const newPads = [...effK.map((e, i) => e - pads[i]), ...effK.map((e, i) => e - pads[i + s])];
  // Padding wider than the kernel reach (a padded 1x1 conv) made outputs that see no input: the
  // negative pads crop them from g.
  const cropped = newPads.some((p) => p < 0)
    ? slice(
        g,
        axes.map((_, i) => Math.max(-newPads[i], 0)),
        axes.map((a, i) => g.dim(a) - Math.max(-newPads[i + s], 0)),
        axes,
      )
    : g;
  return ctx.b.node(
    'Conv',
    [cropped, wf],
    {
      kernel_shape: k,
      pads: newPads.map((p) => Math.max(p, 0)),
      dilations,
      strides: Array(s).fill(1),
      group,
    },
    [{ dtype: x.dtype, shape: x.shape }],
  )[0];
}

/** dX for strided convs: the transposed convolution, with output padding to restore x's size. */
function inputGradStrided(ctx: VjpContext, x: Value, w: Value, g: Value): Value {
  const s = x.rank - 2;
  const { strides, pads, dilations, group } = convAttrs(ctx);
  const k = w.shape.slice(2).map(Number);
  const outputPadding = k.map((kk, i) => {
    const full = (g.dim(2 + i) - 1) * strides[i] - pads[i] - pads[i + s] + dilations[i] * (kk - 1) + 1;
    return x.dim(2 + i) - full;
  });
  return ctx.b.node(
    'ConvTranspose',
    [g, w],
    { kernel_shape: k, pads, strides, dilations, group, output_padding: outputPadding },
    [{ dtype: x.dtype, shape: x.shape }],
  )[0];
}

export interface ConvGeometry {
  kernel: number[];
  strides: number[];
  /** [begin..., end...] as in ONNX */
  pads: number[];
  dilations: number[];
}

/** The form the rule uses for a geometry (see the header); a forced form wins where it applies. */
export function chooseWeightGradForm(
  geo: ConvGeometry,
  forced: ConvWeightGradForm | null = null,
): ConvWeightGradForm {
  const stride1 = geo.strides.every((v) => v === 1);
  if (forced === 'batch-conv' || (forced === 'stacked-matmul' && stride1)) return forced;
  return stride1 ? 'stacked-matmul' : 'batch-conv';
}

/**
 * The weight gradient of an ungrouped Conv with input x [N, C, S] and output gradient g [N, M, O]:
 * dW[m, c, k] = sum_{n, o} g[n, m, o] x[n, c, o*stride + k*dilation - pad]  (x = 0 outside).
 * Returns [M, C, K].
 */
export function convWeightGradient(
  x: Value,
  g: Value,
  geo: ConvGeometry,
  form: ConvWeightGradForm = chooseWeightGradForm(geo),
): Value {
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
    [
      {
        dtype: x.dtype,
        shape: [x.dim(1), g.dim(1), ...outK.map((o, i) => Math.floor((o - 1) / dilations[i]) + 1)],
      },
    ],
  )[0];
  const cut = outK.some((o, i) => Math.floor((o - 1) / dilations[i]) + 1 !== k[i])
    ? slice(
        dwt,
        k.map(() => 0),
        k,
        spatialAxes(x.rank),
      )
    : dwt;
  return transpose(cut, swap); // [M, C, K]
}

export type DepthwiseWeightGradForm = 'stacked' | 'taps';

/**
 * The depthwise weight-gradient form for a geometry: shifted copies and one batched MatMul for
 * stride 1 and kernels of 5 or more per axis (5x5: 10 copies where the taps make 25 products), the
 * per-tap products otherwise. At UniFormer's shapes (1 thread, CPU time, docs/performance.md):
 * 3x3: taps 0.6-1.0x the copies' time; 5x5: copies 0.55-0.8x the taps'.
 */
export function chooseDepthwiseForm(geo: ConvGeometry): DepthwiseWeightGradForm {
  return geo.strides.every((v) => v === 1) && geo.kernel.every((v) => v >= 5) ? 'stacked' : 'taps';
}

/**
 * The weight gradient of a conv whose groups each read ONE input channel (depthwise: group = C,
 * w [M, 1, K], M = C * multiplier): dW[m, 0, k] = sum_{n, o} g[n, m, o] x[n, m / multiplier, o*stride
 * + k*dilation - pad]. Either form has nodes per kernel tap or offset and none per channel (the
 * per-group slabs of the general grouped rule took 10-40x the forward conv at 320-512 channels).
 */
export function depthwiseWeightGradient(
  x: Value,
  g: Value,
  geo: ConvGeometry,
  form: DepthwiseWeightGradForm = chooseDepthwiseForm(geo),
): Value {
  if (form === 'stacked' && geo.strides.every((v) => v === 1)) return weightGradStacked(x, g, geo, true);
  return depthwiseTapsWeightGradient(x, g, geo);
}

/**
 * Per kernel tap: x's shifted view (one Slice of the padded x) times g, summed over the batch and
 * the positions; the taps' [C] sums stacked. Any stride.
 */
function depthwiseTapsWeightGradient(x: Value, g: Value, geo: ConvGeometry): Value {
  const { kernel: k, strides, pads, dilations } = geo;
  const s = x.rank - 2;
  const [c, m] = [x.dim(1), g.dim(1)];
  const multiplier = m / c;
  const out = g.shape.slice(2).map(Number);
  const axes = spatialAxes(x.rank);
  const xp = pads.some((p) => p !== 0) ? pad(x, [0, 0, ...pads.slice(0, s), 0, 0, ...pads.slice(s)]) : x;
  // g as [N, C, multiplier, O] against views [N, C, 1, O] where a channel feeds several outputs
  const gv = multiplier === 1 ? g : reshape(g, [g.shape[0], c, multiplier, ...out]);
  const summed = [0, ...(multiplier === 1 ? axes : axes.map((a) => a + 1))];
  const strided = strides.some((v) => v !== 1);
  const taps = k.reduce<number[][]>(
    (acc, kk) => acc.flatMap((t) => Array.from({ length: kk }, (_, j) => [...t, j])),
    [[]],
  );
  const sums = taps.map((tap) => {
    const starts = tap.map((t, i) => t * dilations[i]);
    let view = slice(
      xp,
      starts,
      starts.map((v, i) => v + (out[i] - 1) * strides[i] + 1),
      axes,
      strided ? strides : undefined,
    );
    if (multiplier > 1) view = unsqueeze(view, [2]);
    return reduceSum(mul(view, gv), summed, false); // [C] or [C, multiplier]
  });
  // [K * C (, multiplier)] -> [K, M] -> [M, K]
  return reshape(transpose(reshape(concat(sums, 0), [taps.length, m]), [1, 0]), [m, 1, ...k]);
}

/** [N, C, ...] -> [C, N, ...]; a free reshape when N = 1. */
function channelsFirst(v: Value): Value {
  const perm = [1, 0, ...spatialAxes(v.rank)];
  return v.shape[0] === 1
    ? reshape(
        v,
        perm.map((p) => v.shape[p]),
      )
    : transpose(v, perm);
}

/** Flat offsets (row-major strides `st`) of every kernel position on the given axes. */
function flatOffsets(k: number[], d: number[], st: number[], axes: number[]): number[] {
  return axes.reduce(
    (acc, a) => acc.flatMap((o) => Array.from({ length: k[a] }, (_, j) => o + j * d[a] * st[a])),
    [0],
  );
}

/**
 * ORT's 4-D Transpose of dW from [M, Kg, C, Kx] to [M, C, Kg, Kx] moves blocks of Kx floats one by
 * one: about 5.6 ns per element at 256 -> 256 channels on the AVX-512 host of 2026-12-01 (10 ms
 * for one 3x3x3 dW), against about 1 ns per element of the shifted copies (Slice + Concat).
 */
const DW_TRANSPOSE_COST = 4;

/**
 * Where the kernel offsets split between g and x (see weightGradStacked): the j with the fewest
 * elements copied per sample: Kx copies of x and Kg of g over the padded volume, plus dW's
 * transpose, which Kg = 1 (j = 0) avoids. At fine levels the copies decide (j = 1 for 3x3x3: 3
 * copies of g, 9 of x); at the coarsest (2x7x7, 256 channels) the transpose does (j = 0).
 */
export function offsetSplit(m: number, c: number, k: number[], vol: number): number {
  const cost = (j: number) => {
    const kg = numel(k.slice(0, j));
    return (m * kg + c * numel(k.slice(j))) * vol + (kg > 1 ? DW_TRANSPOSE_COST * m * c * numel(k) : 0);
  };
  let best = 0;
  for (let j = 1; j <= k.length; j++) if (cost(j) < cost(best)) best = j;
  return best;
}

/**
 * Stride 1 only. Flatten each sample's zero-padded input xp to one axis of length V; a kernel
 * offset is then a flat shift: dW[m, c, off] = sum_q g[m, q] xp[c, q + off] with g laid out on the
 * same padded grid (zeros where q is off g). Split the offsets as off = a + b, a over the leading
 * kernel axes (< j), b over the rest: shift g by a (Kg padded copies: gs [M*Kg, L]) and x by b
 * (Kx sliced copies: xs [C*Kx, L]); then ONE MatMul gs · xs^T [M*Kg, C*Kx] holds every dW entry.
 * j minimises what is copied (offsetSplit): 12 channels' worth for 3x3x3 (im2col makes 27).
 * The GEMM also runs over the padding (x (T+2)/T x (W+2)/W), so tiny volumes (2x7x7) gain little.
 * Transient memory: the copies and their stacks, 2*(Kx*|xp| + Kg*|g|): ~0.67 GB at 1x16x32x112x112
 * (a T-chunked variant halves it but ran ~20% slower).
 * perChannel (depthwise: output channel m reads only input channel m / multiplier): the same
 * copies, contracted by a MatMul batched over the channels instead of across them.
 */
function weightGradStacked(x: Value, g: Value, geo: ConvGeometry, perChannel = false): Value {
  const { kernel: k, pads, dilations: d } = geo;
  if (geo.strides.some((v) => v !== 1)) throw new Error('stacked-matmul weight gradient needs stride 1');
  if (k.every((v) => v === 1) && !perChannel) return weightGradPointwise(x, g, pads);
  const s = x.rank - 2;
  const [c, m, n] = [x.dim(1), g.dim(1), x.shape[0]];
  const multiplier = m / c;
  const out = g.shape.slice(2).map(Number);
  // ORT keeps output_padding < stride, so at stride 1 x + pads is exactly this grid.
  const padded = out.map((o, i) => o + d[i] * (k[i] - 1));
  const st = padded.map((_, i) => padded.slice(i + 1).reduce((a, v) => a * v, 1));
  const vol = st[0] * padded[0];
  const lastG = out.reduce((a, o, i) => a + (o - 1) * st[i], 0);
  const j = perChannel ? offsetSplit(multiplier, 1, k, vol) : offsetSplit(m, c, k, vol);
  const gOffsets = flatOffsets(
    k,
    d,
    st,
    Array.from({ length: j }, (_, i) => i),
  );
  const xOffsets = flatOffsets(
    k,
    d,
    st,
    Array.from({ length: s - j }, (_, i) => i + j),
  );
  const maxG = gOffsets[gOffsets.length - 1];
  const q = lastG + 1 + maxG; // positions of the contraction per sample; q + max x offset = vol
  const l: Dim = typeof n === 'number' ? n * q : `${n}*${q}`;
  // Copies are stacked on a new axis 1, so rows run (channel, offset) and the result needs only a
  // small 4-D swap (an (offset, channel) order needed a 5-D transpose slower than the MatMul).
  const stack = (vs: Value[]) =>
    vs.length > 1
      ? concat(
          vs.map((v) => unsqueeze(v, [1])),
          1,
        )
      : vs[0];

  const xp = reshape(pad(channelsFirst(x), [0, 0, ...pads.slice(0, s), 0, 0, ...pads.slice(s)]), [c, n, vol]);
  const xs = reshape(
    stack(xOffsets.map((o) => (o === 0 && q === vol ? xp : slice(xp, [o], [o + q], [2])))),
    perChannel ? [c, xOffsets.length, l] : [c * xOffsets.length, l],
  );

  const gEnd = padded.map((p, i) => p - out[i]);
  const gp = reshape(pad(channelsFirst(g), [0, 0, ...gEnd.map(() => 0), 0, 0, ...gEnd]), [m, n, vol]);
  const gv = lastG + 1 === vol ? gp : slice(gp, [0], [lastG + 1], [2]);
  const gs = reshape(
    stack(gOffsets.map((o) => (maxG === 0 ? gv : pad(gv, [0, 0, o, 0, 0, maxG - o])))),
    perChannel ? [c, multiplier * gOffsets.length, l] : [m * gOffsets.length, l],
  );
  // Per channel: one MatMul batched over the channels, [C, mult*Kg, L] x [C, L, Kx], whose
  // [C, mult*Kg, Kx] is already dW's [M, K] order.
  if (perChannel) return reshape(matmul(gs, transpose(xs, [0, 2, 1])), [m, 1, ...k]);

  // The larger stack is MatMul's first operand: ORT packs (copies) the second one.
  const gx =
    m * gOffsets.length >= c * xOffsets.length
      ? matmul(gs, transpose(xs, [1, 0]))
      : transpose(matmul(xs, transpose(gs, [1, 0])), [1, 0]);
  // [M*Kg, C*Kx] -> [M, Kg, C, Kx] -> [M, C, Kg, Kx] = [M, C, K]; with Kg = 1 already in order.
  if (gOffsets.length === 1) return reshape(gx, [m, c, ...k]);
  const dw = reshape(gx, [m, gOffsets.length, c, xOffsets.length]);
  return reshape(transpose(dw, [0, 2, 1, 3]), [m, c, ...k]);
}

/**
 * A 1x1 kernel has one offset: dW = g · x^T over every position. Padding only adds outputs that
 * see zeros (they add nothing), so g is cropped to the unpadded grid instead of padding x.
 */
function weightGradPointwise(x: Value, g: Value, pads: number[]): Value {
  const s = x.rank - 2;
  const axes = spatialAxes(g.rank);
  const inner = pads.some((p) => p !== 0)
    ? slice(
        g,
        pads.slice(0, s),
        axes.map((a, i) => g.dim(a) - pads[i + s]),
        axes,
      )
    : g;
  const [c, m, n] = [x.dim(1), g.dim(1), x.shape[0]];
  const per = numel(x.shape.slice(2).map(Number));
  const len: Dim = typeof n === 'number' ? n * per : `${n}*${per}`;
  const flat = (v: Value, ch: number) => reshape(channelsFirst(v), [ch, len]);
  return reshape(matmul(flat(inner, m), transpose(flat(x, c), [1, 0])), [m, c, ...Array(s).fill(1)]);
}

/**
 * Grouped convs whose groups read several input channels: group j's weights [M/g, C/g, K] see only
 * its slabs of x and g, one sub-graph per group, stacked along M.
 */
export function groupedWeightGradient(
  x: Value,
  g: Value,
  group: number,
  geo: ConvGeometry,
  form: ConvWeightGradForm = chooseWeightGradForm(geo),
): Value {
  const [cg, mg] = [x.dim(1) / group, g.dim(1) / group];
  const perGroup = Array.from({ length: group }, (_, j) =>
    convWeightGradient(
      slice(x, [j * cg], [(j + 1) * cg], [1]),
      slice(g, [j * mg], [(j + 1) * mg], [1]),
      geo,
      form,
    ),
  );
  return concat(perGroup, 0);
}

function weightGrad(ctx: VjpContext, x: Value, w: Value, g: Value): Value {
  const { strides, pads, dilations, group } = convAttrs(ctx);
  const geo = { kernel: w.shape.slice(2).map(Number), strides, pads, dilations };
  const form = chooseWeightGradForm(geo, ctx.forms.convWeightGrad);
  if (group === 1) return convWeightGradient(x, g, geo, form);
  if (w.dim(1) === 1) return depthwiseWeightGradient(x, g, geo);
  return groupedWeightGradient(x, g, group, geo, form);
}

registerVjp('Conv', (ctx) => {
  const {
    inputs: [x, w],
    g,
  } = ctx;
  const stride1 = convAttrs(ctx).strides.every((v) => v === 1);
  return [
    () => (stride1 ? inputGradStride1(ctx, x, w, g) : inputGradStrided(ctx, x, w, g)),
    () => weightGrad(ctx, x, w, g),
    () => reduceSum(g, [0, ...spatialAxes(g.rank)], false),
  ];
});
