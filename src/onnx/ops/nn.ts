import type { Dim } from '../ir.js';
import { Value } from '../builder.js';
import { sub } from './elementwise.js';
import { reduceMean } from './shape.js';

export interface ConvOpts {
  strides?: number[];
  /** [begin..., end...] as in ONNX */
  pads?: number[];
  dilations?: number[];
  group?: number;
}

function spatialOut(x: Value, k: number[], o: Required<ConvOpts>): Dim[] {
  const s = x.rank - 2;
  const out: Dim[] = [];
  for (let i = 0; i < s; i++) {
    const n = x.dim(2 + i);
    out.push(
      Math.floor((n + o.pads[i] + o.pads[i + s] - o.dilations[i] * (k[i] - 1) - 1) / o.strides[i]) + 1,
    );
  }
  return out;
}

export function fillConvOpts(rank: number, o: ConvOpts = {}): Required<ConvOpts> {
  const s = rank - 2;
  return {
    strides: o.strides ?? Array(s).fill(1),
    pads: o.pads ?? Array(2 * s).fill(0),
    dilations: o.dilations ?? Array(s).fill(1),
    group: o.group ?? 1,
  };
}

/** ONNX Conv: x [N, C, *S], w [M, C/group, *K], optional bias [M]. */
export function conv(x: Value, w: Value, bias: Value | null, opts: ConvOpts = {}): Value {
  const o = fillConvOpts(x.rank, opts);
  const k = w.shape.slice(2).map(Number);
  if (x.dim(1) !== w.dim(1) * o.group)
    throw new Error(`conv ${w.name}: input has ${x.dim(1)} channels, weight expects ${w.dim(1) * o.group}`);
  const shape = [x.shape[0], w.shape[0], ...spatialOut(x, k, o)];
  return x.b.node('Conv', bias ? [x, w, bias] : [x, w], { ...o, kernel_shape: k }, [
    { dtype: x.dtype, shape },
  ])[0];
}

export interface PoolOpts {
  kernel: number[];
  strides?: number[];
  pads?: number[];
}

export function maxPool(x: Value, opts: PoolOpts): Value {
  const o = fillConvOpts(x.rank, { strides: opts.strides ?? opts.kernel, pads: opts.pads });
  const shape = [x.shape[0], x.shape[1], ...spatialOut(x, opts.kernel, o)];
  return x.b.node('MaxPool', [x], { kernel_shape: opts.kernel, strides: o.strides, pads: o.pads }, [
    { dtype: x.dtype, shape },
  ])[0];
}

/** InstanceNormalization over the spatial axes of x [N, C, *S]; scale/bias [C]. */
export function instanceNorm(x: Value, scale: Value, bias: Value, epsilon = 1e-5): Value {
  return x.b.node('InstanceNormalization', [x, scale, bias], { epsilon: { float: epsilon } }, [
    { dtype: x.dtype, shape: x.shape },
  ])[0];
}

/** ONNX Softmax (opset 13 and later): exp(x) normalised to sum 1 along ONE axis, as PyTorch's softmax(dim). */
export function softmax(x: Value, axis = -1): Value {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank)
    throw new Error(`softmax ${x.name}: axis ${axis} out of range for rank ${x.rank}`);
  return x.b.node('Softmax', [x], { axis: a }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/**
 * Layer normalisation over the axes from `axis` to the last (PyTorch's nn.LayerNorm(shape), ONNX's
 * LayerNormalization); scale and bias have the shape of those axes. x is centred by its mean first:
 * ORT's CPU kernel takes the variance as E[x^2] - E[x]^2 in one float32 pass, which loses
 * mean^2/var of float32's precision (2e-4 off at a mean 300x the spread), and the op's own
 * centring then removes what rounding left of the mean (docs/numerics.md#layer-normalisation).
 */
export function layerNorm(x: Value, scale: Value, bias: Value, eps: number, axis = -1): Value {
  const a = axis < 0 ? axis + x.rank : axis;
  const normalised = x.shape.slice(a);
  for (const p of [scale, bias])
    if (p.rank !== normalised.length || p.shape.some((d, i) => d !== normalised[i]))
      throw new Error(
        `layerNorm ${x.name}: ${p.name} is [${p.shape}], the normalised axes are [${normalised}]`,
      );
  const axes = normalised.map((_, i) => a + i);
  const centred = sub(x, reduceMean(x, axes));
  return x.b.node('LayerNormalization', [centred, scale, bias], { axis: a, epsilon: { float: eps } }, [
    { dtype: x.dtype, shape: x.shape },
  ])[0];
}

/** BatchNormalization in inference mode (running statistics). */
export function batchNormInference(
  x: Value,
  scale: Value,
  bias: Value,
  mean: Value,
  variance: Value,
  epsilon = 1e-5,
): Value {
  return x.b.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: epsilon } }, [
    { dtype: x.dtype, shape: x.shape },
  ])[0];
}

/**
 * BatchNormalization in training mode: normalises with the batch statistics and returns the
 * updated running mean and variance (ONNX: running = momentum*running + (1-momentum)*batch).
 */
export function batchNormTraining(
  x: Value,
  scale: Value,
  bias: Value,
  mean: Value,
  variance: Value,
  momentum: number,
  epsilon = 1e-5,
): { y: Value; runningMean: Value; runningVar: Value } {
  const c = [x.dim(1)];
  const [y, runningMean, runningVar] = x.b.node(
    'BatchNormalization',
    [x, scale, bias, mean, variance],
    { epsilon: { float: epsilon }, momentum: { float: momentum }, training_mode: 1 },
    [
      { dtype: x.dtype, shape: x.shape },
      { dtype: x.dtype, shape: c },
      { dtype: x.dtype, shape: c },
    ],
  );
  return { y, runningMean, runningVar };
}
