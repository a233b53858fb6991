// InstanceNormalization and BatchNormalization (training mode). Both normalise x over some axes
// R with x_hat = (x - mean_R) / sqrt(var_R + eps), y = scale * x_hat + bias, so both share
//   dx = rstd * (gy - mean_R(gy) - x_hat * mean_R(gy * x_hat)),  gy = g * scale
//   dscale = sum(g * x_hat),  dbias = sum(g)   (sums over every axis but the channel axis)
import { add, mul, reduceMean, reduceSum, reciprocal, sqrt, sub } from '../../onnx/ops/index.js';
import { registerVjp, type InputGradient, type VjpContext } from '../registry.js';
import { channelView, shared, spatialAxes } from './util.js';

/** True where input i is a constant of all ones (an InstanceNorm without affine parameters). */
function isConstantOnes(ctx: VjpContext, i: number): boolean {
  const t = ctx.b.initializers.get(ctx.node.inputs[i]);
  return t !== undefined && Array.from(t.data as ArrayLike<number>).every((v) => v === 1);
}

function normGrad(ctx: VjpContext, reduceAxes: number[]): InputGradient[] {
  const {
    inputs: [x, scale],
    g,
  } = ctx;
  const eps = ctx.attr<number>('epsilon', 1e-5);
  const stats = shared(() => {
    const centred = sub(x, reduceMean(x, reduceAxes));
    const rstd = reciprocal(sqrt(add(reduceMean(mul(centred, centred), reduceAxes), eps)));
    return { centred, rstd };
  });
  const notChannel = [0, ...spatialAxes(x.rank)];
  const dx = () => {
    const { centred, rstd } = stats();
    const gy = isConstantOnes(ctx, 1) ? g : mul(g, channelView(scale, x.rank));
    // The formula above with x_hat = centred * rstd folded into per-channel factors, so only
    // centred is a full-size temporary: dx = rstd * (gy - mean(gy) - centred * rstd^2 * mean(gy * centred)).
    const perChannel = mul(mul(rstd, rstd), reduceMean(mul(gy, centred), reduceAxes));
    return mul(sub(gy, add(mul(centred, perChannel), reduceMean(gy, reduceAxes))), rstd);
  };
  return [
    dx,
    () => reduceSum(mul(g, mul(stats().centred, stats().rstd)), notChannel, false),
    () => reduceSum(g, notChannel, false),
    null,
    null,
  ];
}

registerVjp('InstanceNormalization', (ctx) => normGrad(ctx, spatialAxes(ctx.inputs[0].rank)));

registerVjp('BatchNormalization', (ctx) => {
  if (ctx.attr<number>('training_mode', 0)) return normGrad(ctx, [0, ...spatialAxes(ctx.inputs[0].rank)]);
  // Inference mode is an affine map with the running statistics.
  const {
    inputs: [x, scale, , mean, variance],
    g,
  } = ctx;
  const rstd = shared(() => reciprocal(sqrt(add(variance, ctx.attr<number>('epsilon', 1e-5)))));
  const r = x.rank;
  const notChannel = [0, ...spatialAxes(r)];
  return [
    () => mul(g, channelView(mul(scale, rstd()), r)),
    () => reduceSum(mul(g, mul(sub(x, channelView(mean, r)), channelView(rstd(), r))), notChannel, false),
    () => reduceSum(g, notChannel, false),
    null,
    null,
  ];
});
