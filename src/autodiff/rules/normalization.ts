// InstanceNormalization and BatchNormalization (training mode). Both normalise x over some axes
// R with x_hat = (x - mean_R) / sqrt(var_R + eps), y = scale * x_hat + bias, so both share
//   dx = rstd * (gy - mean_R(gy) - x_hat * mean_R(gy * x_hat)),  gy = g * scale
//   dscale = sum(g * x_hat),  dbias = sum(g)   (sums over every axis but the channel axis)
import type { Value } from '../../onnx/builder.js';
import { add, mul, reduceMean, reduceSum, reciprocal, reshape, sqrt, sub } from '../../onnx/ops/index.js';
import { registerVjp, type InputGradient, type VjpContext } from '../registry.js';
import { channelView, shared, spatialAxes } from './util.js';

/** True where input i is all ones: a constant (InstanceNorm without affine parameters) or a ConstantOfShape of 1. */
function isConstantOnes(ctx: VjpContext, i: number): boolean {
  const name = ctx.node.inputs[i];
  const filled = ctx.b.producer.get(name);
  const t =
    ctx.b.initializers.get(name) ??
    (filled?.op === 'ConstantOfShape' ? (filled.attrs.value as { data: ArrayLike<number> }) : undefined);
  return t !== undefined && Array.from(t.data as ArrayLike<number>).every((v) => v === 1);
}

/** True where value v is computed from x by ReduceMean and Reshape nodes only, i.e. is x's mean. */
function isMeanOf(ctx: VjpContext, v: string, x: string): boolean {
  for (let name = v; name !== x;) {
    const p = ctx.b.producer.get(name);
    if (!p || (p.op !== 'ReduceMean' && p.op !== 'Reshape')) return false;
    name = p.inputs[0];
  }
  return true;
}

/**
 * The formula above with x_hat = centred * rstd folded into per-channel factors, so only centred
 * is a full-size temporary: dx = rstd * (gy - mean(gy) - centred * rstd^2 * mean(gy * centred)).
 */
function normInputGrad(gy: Value, centred: Value, rstd: Value, reduceAxes: number[]): Value {
  const perChannel = mul(mul(rstd, rstd), reduceMean(mul(gy, centred), reduceAxes));
  return mul(sub(gy, add(mul(centred, perChannel), reduceMean(gy, reduceAxes))), rstd);
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
    return normInputGrad(gy, centred, rstd, reduceAxes);
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

/**
 * BatchNormalization in inference mode whose mean is computed from x itself: a normalisation with
 * statistics of its own, built so for their accuracy (graphs/layers.ts accurateInstanceNorm). The
 * gradient through the statistics is folded into dx, the norm VJP with the given statistics, and
 * none flows into the nodes that computed them.
 */
function ownStatisticsGrad(ctx: VjpContext): InputGradient[] {
  const {
    inputs: [x, scale, , mean, variance],
    g,
  } = ctx;
  const r = x.rank;
  // [C] -> [1, C, 1, ...] where C may be symbolic (N*C planes)
  const view = (v: Value) => reshape(v, [1, x.shape[1], ...Array(r - 2).fill(1)]);
  const stats = shared(() => ({
    centred: sub(x, view(mean)),
    rstd: view(reciprocal(sqrt(add(variance, ctx.attr<number>('epsilon', 1e-5))))),
  }));
  const notChannel = [0, ...spatialAxes(r)];
  return [
    () => {
      const gy = isConstantOnes(ctx, 1) ? g : mul(g, view(scale));
      return normInputGrad(gy, stats().centred, stats().rstd, notChannel);
    },
    () => reduceSum(mul(g, mul(stats().centred, stats().rstd)), notChannel, false),
    () => reduceSum(g, notChannel, false),
    null,
    null,
  ];
}

registerVjp('BatchNormalization', (ctx) => {
  if (ctx.attr<number>('training_mode', 0)) return normGrad(ctx, [0, ...spatialAxes(ctx.inputs[0].rank)]);
  if (isMeanOf(ctx, ctx.inputs[3].name, ctx.inputs[0].name)) return ownStatisticsGrad(ctx);
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

/**
 * LayerNormalization over the axes R from `axis` on: the norm VJP above along R, with statistics
 * recomputed from x in x's own type (the op's Mean/InvStdDev outputs are float32 even for float64
 * x); layerNorm feeds it centred x, so these sums are as accurate as its own. scale and bias are
 * shared by the leading axes L: dscale = sum_L(g * x_hat), dbias = sum_L(g).
 */
registerVjp('LayerNormalization', (ctx) => {
  const {
    inputs: [x, scale],
    g,
  } = ctx;
  const axis = ctx.attr<number>('axis', -1);
  const first = axis < 0 ? axis + x.rank : axis;
  const normalised = Array.from({ length: x.rank - first }, (_, i) => first + i);
  const leading = Array.from({ length: first }, (_, i) => i);
  const stats = shared(() => {
    const centred = sub(x, reduceMean(x, normalised));
    const variance = reduceMean(mul(centred, centred), normalised);
    return { centred, rstd: reciprocal(sqrt(add(variance, ctx.attr<number>('epsilon', 1e-5)))) };
  });
  const sumLeading = (v: Value) => (leading.length ? reduceSum(v, leading, false) : v);
  return [
    () => normInputGrad(mul(g, scale), stats().centred, stats().rstd, normalised),
    () => sumLeading(mul(g, mul(stats().centred, stats().rstd))),
    () => sumLeading(g),
  ];
});
