// Parameter declaration and the layers both model families share. A model first declares all of
// its parameters (in the upstream state-dict order, so graph inputs, manifest and checkpoint list
// them like PyTorch does), then computes with the returned Values.
import { GraphBuilder, Value } from '../src/onnx/builder.js';
import {
  add,
  batchNormInference,
  cast,
  conv,
  div,
  mul,
  fullLike,
  reduceMean,
  reduceSum,
  reduceSumSquare,
  reshape,
  shiftedTapsConv,
  sub,
  type ConvOpts,
} from '../src/onnx/ops/index.js';
import { formsFor, type GraphForms } from '../src/onnx/forms.js';
import { Rng } from '../src/util/rng.js';
import { numel } from '../src/onnx/ir.js';

/**
 * 'param' is trained (has a gradient and optimizer state); 'buffer' is a BatchNorm running statistic;
 * 'unused' is a parameter of upstream's state dict that no graph reads (UniFormer's ImageNet
 * classifier head): it is imported, kept and written back unchanged, with no gradient and no
 * optimizer state, as PyTorch's AdamW skips a parameter whose gradient stays None.
 */
export type ParamKind = 'param' | 'buffer' | 'unused';

/** How PyTorch (or the library upstream uses) initialises a tensor. */
export type InitSpec =
  { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number } | { kind: 'const'; value: number };

export interface ParamSpec {
  /** upstream state-dict name without the Lightning `model.` prefix */
  name: string;
  kind: ParamKind;
  /** shape of the graph input / initializer (our layout) */
  shape: number[];
  /** shape in the upstream state dict */
  upstreamShape: number[];
  /** graph tensor = upstream tensor transposed by this permutation (identity where layouts agree) */
  permutation: number[];
  init: InitSpec;
}

/** Where a declared parameter's Value comes from: a graph input (train graphs) or an initializer (model.onnx). */
export type ParamSource = (b: GraphBuilder, spec: ParamSpec) => Value;

export const inputSource: ParamSource = (b, spec) => b.input(spec.name, 'float32', spec.shape);

export function initializerSource(values: ReadonlyMap<string, Float32Array>): ParamSource {
  return (b, spec) => {
    const data = values.get(spec.name);
    if (!data) throw new Error(`no value for parameter ${spec.name}`);
    const n = numel(spec.shape);
    if (data.length !== n)
      throw new Error(`parameter ${spec.name}: ${data.length} values, shape [${spec.shape}] needs ${n}`);
    return b.initializer(spec.name, { dtype: 'float32', dims: spec.shape, data });
  };
}

/** One model build: the graph, where parameters come from, and whether BatchNorm uses batch statistics. */
export class ModelContext {
  readonly specs: ParamSpec[] = [];
  /** `<bn>.running_mean.new` / `.running_var.new` values of a training-mode build */
  readonly runningStats: { name: string; value: Value }[] = [];
  readonly values = new Map<string, Value>();

  constructor(
    readonly b: GraphBuilder,
    private readonly source: ParamSource,
    readonly training: boolean,
    /** the backend's graph forms (src/onnx/forms.ts) */
    readonly forms: GraphForms = formsFor('cpu'),
  ) {}

  param(spec: ParamSpec): Value {
    if (this.values.has(spec.name)) throw new Error(`parameter ${spec.name} declared twice`);
    const v = this.source(this.b, spec);
    this.specs.push(spec);
    this.values.set(spec.name, v);
    return v;
  }

  /** Lists an 'unused' parameter in the state dict without giving it a place in the graph. */
  keep(spec: ParamSpec & { kind: 'unused' }): void {
    if (this.specs.some((s) => s.name === spec.name))
      throw new Error(`parameter ${spec.name} declared twice`);
    this.specs.push(spec);
  }
}

/** Number of parameter values (BatchNorm running statistics excluded), as PyTorch counts parameters. */
export function parameterCount(specs: readonly ParamSpec[]): number {
  return specs.filter((s) => s.kind !== 'buffer').reduce((a, s) => a + numel(s.shape), 0);
}

/** Draws every parameter's initial value from one seeded stream, in declaration order. */
export function initialValues(specs: readonly ParamSpec[], seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of specs) {
    const n = numel(s.shape);
    const data = new Float32Array(n);
    const init = s.init;
    if (init.kind === 'const') data.fill(init.value);
    else if (init.kind === 'uniform')
      for (let i = 0; i < n; i++) data[i] = rng.range(-init.bound, init.bound);
    else for (let i = 0; i < n; i++) data[i] = rng.normal() * init.std;
    out.set(s.name, data);
  }
  return out;
}

/** Channel count under --width_mult: names stay, widths shrink, never below one channel. */
export function scaled(channels: number, widthMult: number): number {
  return Math.max(1, Math.round(channels * widthMult));
}

const identityPerm = (rank: number) => Array.from({ length: rank }, (_, i) => i);

/**
 * Our 3D tensors are [N, C, T, H, W]; upstream's are [N, C, H, W, T], so their kernels are
 * [.., kH, kW, kT]. graph = upstream.transpose(0, 1, 4, 2, 3).
 */
const KERNEL_3D_PERM = [0, 1, 4, 2, 3];

export interface ConvDecl {
  /** 'conv' = Conv weight [Cout, Cin, k..]; 'transposed' = ConvTranspose weight [Cin, Cout, k..] */
  kind: 'conv' | 'transposed';
  cin: number;
  cout: number;
  kernel: number[];
  bias: boolean;
  /** defaults to PyTorch's kaiming_uniform(a=sqrt(5)) and uniform bias, both U(±1/sqrt(fan_in)) */
  weightInit?: (fanIn: number, fanOut: number) => InitSpec;
  biasInit?: (fanIn: number) => InitSpec;
}

export interface ConvWeights {
  weight: Value;
  bias: Value | null;
}

/** Declares `<name>.weight` (and `.bias`); 3D kernels are stored upstream as (kH, kW, kT). */
export function declareConv(ctx: ModelContext, name: string, d: ConvDecl): ConvWeights {
  const receptive = numel(d.kernel);
  const shape = d.kind === 'conv' ? [d.cout, d.cin, ...d.kernel] : [d.cin, d.cout, ...d.kernel];
  // PyTorch's fan_in is dim 1 times the receptive field, for ConvTranspose too.
  const fanIn = shape[1] * receptive;
  const fanOut = shape[0] * receptive;
  const perm = d.kernel.length === 3 ? KERNEL_3D_PERM : identityPerm(shape.length);
  const upstreamShape = shape.map((_, i) => shape[perm.indexOf(i)]);
  const defaultBound = { kind: 'uniform' as const, bound: 1 / Math.sqrt(fanIn) };
  const weight = ctx.param({
    name: `${name}.weight`,
    kind: 'param',
    shape,
    upstreamShape,
    permutation: perm,
    init: d.weightInit ? d.weightInit(fanIn, fanOut) : defaultBound,
  });
  const cout = d.cout;
  const bias = d.bias
    ? ctx.param({
        name: `${name}.bias`,
        kind: 'param',
        shape: [cout],
        upstreamShape: [cout],
        permutation: [0],
        init: d.biasInit ? d.biasInit(fanIn) : defaultBound,
      })
    : null;
  return { weight, bias };
}

export function applyConv(ctx: ModelContext, x: Value, w: ConvWeights, opts: ConvOpts = {}): Value {
  const k = w.weight.shape.slice(2).map(Number);
  const plain =
    (opts.strides ?? []).every((v) => v === 1) &&
    (opts.dilations ?? []).every((v) => v === 1) &&
    (opts.group ?? 1) === 1;
  // One output channel from many (the full UNet3D's decoder1 32 -> 1 conv): where the backend's
  // Conv is slow there (ORT's CPU one), shiftedTapsConv; the threshold is the backend's.
  if (
    w.weight.dim(0) === 1 &&
    w.weight.dim(1) >= ctx.forms.shiftedTapsMinChannels &&
    k.some((v) => v > 1) &&
    plain
  )
    return shiftedTapsConv(x, w.weight, w.bias, opts, ctx.training ? 'split-sum' : ctx.forms.forwardTapsCut);
  return conv(x, w.weight, w.bias, opts);
}

/** `same` padding for an odd kernel k on every spatial axis. */
export function samePads(spatial: number, k: number): number[] {
  return Array(2 * spatial).fill((k - 1) / 2);
}

export interface BatchNormWeights {
  name: string;
  weight: Value;
  bias: Value;
  runningMean: Value;
  runningVar: Value;
}

export function declareBatchNorm(ctx: ModelContext, name: string, c: number): BatchNormWeights {
  const vec = (suffix: string, kind: ParamKind, value: number) =>
    ctx.param({
      name: `${name}.${suffix}`,
      kind,
      shape: [c],
      upstreamShape: [c],
      permutation: [0],
      init: { kind: 'const', value },
    });
  return {
    name,
    weight: vec('weight', 'param', 1),
    bias: vec('bias', 'param', 0),
    runningMean: vec('running_mean', 'buffer', 0),
    runningVar: vec('running_var', 'buffer', 1),
  };
}

/**
 * Per-channel statistics accurate to float32's precision, for training graphs. ORT's CPU
 * InstanceNormalization sums each (sample, channel) plane in one float32 pass; over the tens of
 * thousands of identical values of SSL's blacked-out frames that drifts by up to ~1e-4, and the
 * norm's backward projection amplifies such forward errors into the gradients (docs/numerics.md).
 * Here the mean and the sum of squared deviations are reduced over `axes` one axis at a time,
 * innermost first (short sums whose rounding stays near float32's epsilon; means of equal-sized
 * groups are the mean). Returns the mean with the reduced axes kept, and the sums of squares.
 */
function accurateMoments(x: Value, axes: number[]): { mean: Value; squares: Value } {
  const inward = [...axes].sort((a, b) => b - a);
  const mean = inward.reduce((v, a) => reduceMean(v, [a]), x);
  const centred = sub(x, mean);
  const squares = inward.slice(1).reduce((v, a) => reduceSum(v, [a]), reduceSumSquare(centred, [inward[0]]));
  return { mean, squares };
}

/**
 * InstanceNorm without affine parameters, with accurate statistics (accurateMoments) for training
 * graphs: x viewed as [1, N*C, *S] is normalised by a BatchNormalization with them; that op's VJP
 * treats statistics computed from x as x's batch statistics, so the gradient is the usual norm VJP.
 */
export function accurateInstanceNorm(x: Value, eps = 1e-5): Value {
  const [n, c] = [x.shape[0], x.dim(1)];
  const spatial = x.shape.slice(2).map(Number);
  const planes = typeof n === 'number' ? n * c : `${n}*${c}`;
  const flat = reshape(x, [1, planes, ...spatial]);
  const { mean, squares } = accurateMoments(
    flat,
    spatial.map((_, i) => i + 2),
  );
  const variance = mul(reshape(squares, [planes]), 1 / numel(spatial));
  const meanFlat = reshape(mean, [planes]);
  const y = batchNormInference(flat, fullLike(meanFlat, 1), fullLike(meanFlat, 0), meanFlat, variance, eps);
  return reshape(y, x.shape);
}

/** PyTorch's BatchNorm momentum: running = (1 - m) * running + m * batch. */
const BN_MOMENTUM = 0.1;
const BN_EPS = 1e-5;

/**
 * BatchNorm: batch statistics in training builds, running statistics otherwise.
 *
 * Training mode does not use ONNX BatchNormalization(training_mode=1): ORT's CPU kernel writes the
 * updated running statistics into the caller's input buffers (a graph input fed by the training
 * loop gets modified), updates the running variance with the biased batch variance where PyTorch
 * uses the unbiased one, and other execution providers lack the training mode. The batch statistics
 * come from accurateMoments over the batch and spatial axes (InstanceNormalization of x viewed as
 * [1, C, N*H*W], used before, summed each channel in one float32 pass: docs/numerics.md), x is
 * normalised by BatchNormalization in inference form with them (whose VJP recognises statistics of
 * x's own), and the running statistics follow PyTorch's update with the unbiased variance.
 */
export function applyBatchNorm(ctx: ModelContext, bn: BatchNormWeights, x: Value): Value {
  if (!ctx.training) return batchNormInference(x, bn.weight, bn.bias, bn.runningMean, bn.runningVar, BN_EPS);
  const b = ctx.b;
  const c = x.dim(1);
  return b.scope(`${bn.name}.batch_norm`, () => {
    const { mean, squares } = accurateMoments(
      x,
      x.shape.map((_, i) => i).filter((i) => i !== 1),
    );
    // Elements per channel (the batch size is symbolic): numel(x) / C.
    const numel = b.node('Size', [x], {}, [{ dtype: 'int64', shape: [] }])[0];
    const perChannel = mul(cast(numel, 'float32'), 1 / c);
    const channelMean = reshape(mean, [c]);
    const biasedVar = div(reshape(squares, [c]), perChannel);
    const unbiased = mul(biasedVar, div(perChannel, sub(perChannel, 1)));
    ctx.runningStats.push(
      {
        name: `${bn.name}.running_mean.new`,
        value: add(mul(bn.runningMean, 1 - BN_MOMENTUM), mul(channelMean, BN_MOMENTUM)),
      },
      {
        name: `${bn.name}.running_var.new`,
        value: add(mul(bn.runningVar, 1 - BN_MOMENTUM), mul(unbiased, BN_MOMENTUM)),
      },
    );
    return batchNormInference(x, bn.weight, bn.bias, channelMean, biasedVar, BN_EPS);
  });
}
