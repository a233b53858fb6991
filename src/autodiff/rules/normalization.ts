// InstanceNormalization and BatchNormalization (training mode). Both normalise x over some axes
// R with x_hat = (x - mean_R) / sqrt(var_R + eps), y = scale * x_hat + bias, so both share
//   dx = rstd * (gy - mean_R(gy) - x_hat * mean_R(gy * x_hat)),  gy = g * scale
//   dscale = sum(g * x_hat),  dbias = sum(g)   (sums over every axis but the channel axis)
import type { Value } from '../../onnx/builder.js';
import { add, mul, reduceMean, reduceSum, reciprocal, sqrt, sub } from '../../onnx/ops/index.js';
import { registerVjp, type VjpContext } from '../registry.js';
import { channelView, spatialAxes } from './util.js';

/** True where input i is a constant of all ones (an InstanceNorm without affine parameters). */
function isConstantOnes(ctx: VjpContext, i: number): boolean {
  const t = ctx.b.initializers.get(ctx.node.inputs[i]);
  return t !== undefined && Array.from(t.data as ArrayLike<number>).every((v) => v === 1);
}

function normGrad(ctx: VjpContext, reduceAxes: number[]): (Value | null)[] {
  const [x, scale] = ctx.inputs as Value[];
  const g = ctx.gradOutputs[0]!;
  const eps = ctx.attr<number>('epsilon', 1e-5);
  const mean = reduceMean(x, reduceAxes);
  const centred = sub(x, mean);
  const rstd = reciprocal(sqrt(add(reduceMean(mul(centred, centred), reduceAxes), eps)));
  const notChannel = [0, ...spatialAxes(x.rank)];
  const gy = isConstantOnes(ctx, 1) ? g : mul(g, channelView(scale, x.rank));
  // The formula above with x_hat = centred * rstd folded into per-channel factors, so only
  // centred is a full-size temporary: dx = rstd * (gy - mean(gy) - centred * rstd^2 * mean(gy * centred)).
  const dx = ctx.needs[0]
    ? mul(
        sub(
          gy,
          add(
            mul(centred, mul(mul(rstd, rstd), reduceMean(mul(gy, centred), reduceAxes))),
            reduceMean(gy, reduceAxes),
          ),
        ),
        rstd,
      )
    : null;
  return [
    dx,
    ctx.needs[1] ? reduceSum(mul(g, mul(centred, rstd)), notChannel, false) : null,
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
