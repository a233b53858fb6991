// ConvTranspose is the adjoint of Conv with the same weight and attributes, so its gradients are
// Conv's, read the other way round (and no ConvTranspose is emitted: ORT's CPU one is slow):
//   dX = Conv(g, w) with ConvTranspose's strides/pads/dilations/group (w [C, M/g, K] is already
//        in Conv's [out, in/g, K] layout; no flip);
//   dW = the weight gradient of that Conv with g as its input and x as its output gradient;
//   dB = g summed over batch and space.
import type { Value } from '../../onnx/builder.js';
import { reduceSum } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { convWeightGradient } from './conv.js';
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
  const [x, w, bias] = ctx.inputs as Value[];
  const y = ctx.outputs[0];
  const g = ctx.gradOutputs[0]!;
  const s = x.rank - 2;
  const k = w.shape.slice(2).map(Number);
  const strides = ctx.attr<number[]>('strides', Array(s).fill(1));
  const dilations = ctx.attr<number[]>('dilations', Array(s).fill(1));
  const group = ctx.attr<number>('group', 1);
  const outPad = ctx.attr<number[]>('output_padding', Array(s).fill(0));
  const pads = effectivePads(ctx, x, y, k, strides, dilations, outPad);

  // ORT keeps output_padding < stride, so the Conv over g lands exactly on x's size.
  const dx = ctx.needs[0]
    ? ctx.b.node('Conv', [g, w], { kernel_shape: k, strides, pads, dilations, group }, [
        { dtype: x.dtype, shape: x.shape },
      ])[0]
    : null;
  let dw: Value | null = null;
  if (ctx.needs[1]) {
    if (group !== 1)
      throw new Error(
        `ConvTranspose ${ctx.node.name}: weight gradient for grouped convolution is not supported`,
      );
    dw = convWeightGradient(g, x, { kernel: k, strides, pads, dilations });
  }
  return [dx, dw, bias && ctx.needs[2] ? reduceSum(g, [0, ...spatialAxes(g.rank)], false) : null];
});
