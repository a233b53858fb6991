// Conv: the input gradient is itself a convolution of the output gradient with the flipped,
// in/out-swapped kernel (no ConvTranspose for stride 1: ORT's is ~15x slower, design.md); the
// weight gradient is a convolution of the input with the output gradient, batch and channel
// axes swapped. Strided convs (2D ResNet encoders only) fall back to ConvTranspose for dX.
import type { Value } from '../../onnx/builder.js';
import { reduceSum, reshape, slice, transpose } from '../../onnx/ops/index.js';
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

/**
 * The weight gradient of an ungrouped Conv with input x [N, C, S] and output gradient g [N, M, O]:
 * dW[m, c, k] = sum_{n, o} g[n, m, o] x[n, c, o*stride + k*dilation - pad]  (x = 0 outside), as a
 * conv over the batch axis: batch and channel axes swapped, g as the kernel. Returns [M, C, K].
 */
export function convWeightGradient(x: Value, g: Value, geo: ConvGeometry): Value {
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
