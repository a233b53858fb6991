// ConvTranspose is the adjoint of Conv with the same weight and attributes, so its gradients are
// Conv's, read the other way round (and no ConvTranspose is emitted: ORT's CPU one is slow):
//   dX = Conv(g, w) with ConvTranspose's strides/pads/dilations/group (w [C, M/g, K] is already
//        in Conv's [out, in/g, K] layout; no flip);
//   dW = the weight gradient of that Conv with g as its input and x as its output gradient;
//   dB = g summed over batch and space.
import type { Value } from '../../onnx/builder.js';
import { conv, reduceSum } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { chooseWeightGradForm, convAttrs, convWeightGradient } from './conv.js';
import { spatialAxes } from './util.js';

/** The begin/end pads that produced y's size (from `pads`, or as ONNX derives them from output_shape / auto_pad). */
function effectivePads(
  ctx: VjpContext,
  x: Value,
  y: Value,
  k: number[],
  strides: number[],
  dilations: number[],
  outPad: number[],
): number[] {
  const s = x.rank - 2;
  const given = ctx.node.attrs.pads as number[] | undefined;
  if (given) return given;
  const autoPad = ctx.attr<string>('auto_pad', 'NOTSET');
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < s; i++) {
    const total = strides[i] * (x.dim(2 + i) - 1) + outPad[i] + dilations[i] * (k[i] - 1) + 1 - y.dim(2 + i);
    const half = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? half : total - half);
    end.push(autoPad === 'SAME_UPPER' ? total - half : half);
  }
  return [...begin, ...end];
}

registerVjp('ConvTranspose', (ctx) => {
  const {
    inputs: [x, w],
    outputs: [y],
    g,
  } = ctx;
  const s = x.rank - 2;
  const k = w.shape.slice(2).map(Number);
  const { strides, dilations, group } = convAttrs(ctx);
  const outPad = ctx.attr<number[]>('output_padding', Array(s).fill(0));
  const pads = effectivePads(ctx, x, y, k, strides, dilations, outPad);
  const geo = { kernel: k, strides, pads, dilations };
  return [
    // ORT keeps output_padding < stride, so the Conv over g lands exactly on x's size.
    () => conv(g, w, null, { strides, pads, dilations, group }),
    () => {
      if (group !== 1)
        throw new Error(
          `ConvTranspose ${ctx.node.name}: weight gradient for grouped convolution is not supported`,
        );
      return convWeightGradient(g, x, geo, chooseWeightGradForm(geo, ctx.forms.convWeightGrad));
    },
    () => reduceSum(g, [0, ...spatialAxes(g.rank)], false),
  ];
});
