// InstanceNormalization and BatchNormalization (training mode). Both normalise x over some axes
// R with x_hat = (x - mean_R) / sqrt(var_R + eps), y = scale * x_hat + bias, so both share
//   dx = rstd * (gy - mean_R(gy) - x_hat * mean_R(gy * x_hat)),  gy = g * scale
//   dscale = sum(g * x_hat),  dbias = sum(g)   (sums over every axis but the channel axis)
import type { Value } from '../../onnx/builder.js';
import { add, mul, reduceMean, reduceSum, reciprocal, sqrt, sub } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { channelView, spatialAxes } from './util.js';

function normGrad(ctx: VjpContext, reduceAxes: number[]): (Value | null)[] {
  const [x, scale] = ctx.inputs as Value[];
  const g = ctx.gradOutputs[0]!;
  const eps = ctx.attr<number>('epsilon', 1e-5);
  const mean = reduceMean(x, reduceAxes);
  const centred = sub(x, mean);
  const rstd = reciprocal(sqrt(add(reduceMean(mul(centred, centred), reduceAxes), eps)));
  const xHat = mul(centred, rstd);
  const notChannel = [0, ...spatialAxes(x.rank)];
  const gy = mul(g, channelView(scale, x.rank));
  const dx = ctx.needs[0]
    ? mul(rstd, sub(sub(gy, reduceMean(gy, reduceAxes)), mul(xHat, reduceMean(mul(gy, xHat), reduceAxes))))
    : null;
  return [
    dx,
    ctx.needs[1] ? reduceSum(mul(g, xHat), notChannel, false) : null,
    ctx.needs[2] ? reduceSum(g, notChannel, false) : null,
    null,
    null,
  ];
}

registerVjp('InstanceNormalization', (ctx) => normGrad(ctx, spatialAxes(ctx.inputs[0]!.rank)));

registerVjp('BatchNormalization', (ctx) => {
  if (!ctx.attr<number>('training_mode', 0)) {
    // Inference mode is an affine map with the running statistics.
    const [x, scale, , mean, variance] = ctx.inputs as Value[];
    const g = ctx.gradOutputs[0]!;
    const eps = ctx.attr<number>('epsilon', 1e-5);
    const rstd = reciprocal(sqrt(add(variance, eps)));
    const r = x.rank;
    const xHat = mul(sub(x, channelView(mean, r)), channelView(rstd, r));
    const notChannel = [0, ...spatialAxes(r)];
    return [
      ctx.needs[0] ? mul(g, channelView(mul(scale, rstd), r)) : null,
      ctx.needs[1] ? reduceSum(mul(g, xHat), notChannel, false) : null,
      ctx.needs[2] ? reduceSum(g, notChannel, false) : null,
      null,
      null,
    ];
  }
  return normGrad(ctx, [0, ...spatialAxes(ctx.inputs[0]!.rank)]);
});
