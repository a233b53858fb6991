// The task graphs of an artifact set, written once for every model family: inference, temporal-
// masking reconstruction (docs/upstream.md#temporal-masking-ssl) and weak supervision on the traced frame
// (docs/upstream.md#weak-supervision), each as a training graph (loss + gradients + new BatchNorm running
// statistics) or an evaluation graph (forward only, BatchNorm on running statistics, as PyTorch's eval mode).
import { gradients } from '../src/autodiff/grad.js';
import { GraphBuilder, type Value } from '../src/onnx/builder.js';
import type { Graph } from '../src/onnx/ir.js';
import { cast, equal, mul, reduceSum, reshape, slice, unsqueeze } from '../src/onnx/ops/index.js';
import { diceCounts, diceLossFromParts, diceParts, mseLoss } from './losses.js';
import { ModelContext, initializerSource, inputSource, type ParamSpec } from './layers.js';
import type { SegModel } from './models.js';
import { rawFloat } from './preprocess.js';

export type TaskMode = 'train' | 'eval';

export interface TaskGraph {
  graph: Graph;
  specs: ParamSpec[];
}

function framesInput(b: GraphBuilder, model: SegModel): Value {
  const { frames, size } = model.config;
  return b.input('frames', 'uint8', ['N', frames, size, size, 3]);
}

/** `frames` uint8 [N, T, H, W, 3] -> `logits` float32 [N, T, H, W], weights as initializers. */
export function inferenceGraph(
  model: SegModel,
  weights: ReadonlyMap<string, Float32Array>,
  metadata: Record<string, string>,
): Graph {
  const b = new GraphBuilder();
  const ctx = new ModelContext(b, initializerSource(weights), false, model.config.forms);
  const logits = model.toFrames(model.forward(ctx, model.prepare(rawFloat(framesInput(b, model)))));
  b.output(logits, 'logits');
  Object.assign(b.metadata, metadata);
  return b.toGraph(`${model.config.encoder}_inference`);
}

/** Adds `<param>.grad` outputs (training) and the BatchNorm running-statistic outputs. */
function finish(b: GraphBuilder, ctx: ModelContext, loss: Value, mode: TaskMode): void {
  if (mode === 'eval') return;
  const params = ctx.specs.filter((s) => s.kind === 'param').map((s) => ctx.values.get(s.name)!);
  const grads = gradients(b, loss, params, ctx.forms);
  for (const p of params) b.output(grads.get(p.name)!, `${p.name}.grad`);
  for (const r of ctx.runningStats) b.output(r.value, r.name);
}

/**
 * Temporal-masking reconstruction. Inputs: parameters, `frames` uint8 [N, T, H, W, 3], `keep`
 * float32 [N, T] (1 visible, 0 masked). Masked frames become raw black before normalisation; the
 * target is channel 0 of the clean normalised network input, and the loss is the MSE over all of
 * it: every frame and pixel for 3D, the whole super-image including the pads for SI
 * (docs/upstream.md#temporal-masking-ssl). Outputs `loss`, `mse` (the same value; upstream logs both).
 */
export function sslGraph(model: SegModel, mode: TaskMode): TaskGraph {
  const b = new GraphBuilder();
  const ctx = new ModelContext(b, inputSource, mode === 'train', model.config.forms);
  const frames = framesInput(b, model);
  const keep = b.input('keep', 'float32', ['N', model.config.frames]);
  const raw = rawFloat(frames);
  const masked = b.scope('masking', () => mul(raw, reshape(keep, ['N', model.config.frames, 1, 1, 1])));
  const prediction = model.forward(ctx, model.prepare(masked));
  const target = b.scope('target', () => slice(model.prepare(raw), [0], [1], [1]));
  const loss = b.scope('loss', () => mseLoss(prediction, target));
  b.output(loss, 'loss');
  b.output(loss, 'mse');
  finish(b, ctx, loss, mode);
  return { graph: b.toGraph(`${model.config.encoder}_ssl_${mode}`), specs: ctx.specs };
}

const OTHERS = ['others_intersection', 'others_cardinality', 'others_positives'];

/**
 * Weak supervision. Inputs: parameters, `frames`, `trace_mask` float32 [N, H, W], `trace_index`
 * int64 [N] (the traced frame's position in the clip); training graphs also take the scalars
 * `others_intersection`, `others_cardinality`, `others_positives` (the Dice sums of the batch's
 * other micro-batches; 0 when the whole batch runs at once, so that a micro-batch's gradient is its
 * exact share of the whole-batch gradient). Only the traced frame's logits of each sample reach
 * the loss: smp binary Dice pooled over the batch (docs/upstream.md#dice-loss). Outputs `loss`,
 * the confusion counts `tp`, `fp`, `fn` at sigmoid > 0.5 and the soft sums
 * `intersection`, `cardinality`, `positives` (a split's val_loss pools them); evaluation graphs
 * also output `logits_traced` [N, H, W].
 */
export function weakGraph(model: SegModel, mode: TaskMode): TaskGraph {
  const b = new GraphBuilder();
  const ctx = new ModelContext(b, inputSource, mode === 'train', model.config.forms);
  const { size } = model.config;
  const frames = framesInput(b, model);
  const mask = b.input('trace_mask', 'float32', ['N', size, size]);
  const index = b.input('trace_index', 'int64', ['N']);
  const othersIn = mode === 'train' ? OTHERS.map((name) => b.input(name, 'float32', [])) : null;
  const logits = model.toFrames(model.forward(ctx, model.prepare(rawFloat(frames))));
  // The traced frame's logits as a one-hot contraction over T, not a GatherElements: its gradient
  // is then a broadcast multiply instead of a scatter into a zero tensor, and the only int64 work
  // is the [N, T] one-hot, which the WebGPU provider leaves to the CPU at no cost (docs/performance.md).
  const traced = b.scope('select_traced', () => {
    const T = model.config.frames;
    const frameIds = b.constant(
      BigInt64Array.from({ length: T }, (_, t) => BigInt(t)),
      'int64',
      [1, T],
      'frame_ids',
    );
    const oneHot = cast(equal(unsqueeze(index, [1]), frameIds), 'float32');
    return reduceSum(mul(logits, reshape(oneHot, ['N', T, 1, 1])), [1], false);
  });
  const sums = b.scope('dice_sums', () => diceParts(traced, mask));
  const others = othersIn
    ? { intersection: othersIn[0], cardinality: othersIn[1], positives: othersIn[2] }
    : undefined;
  const loss = b.scope('loss', () => diceLossFromParts(sums, others));
  const counts = b.scope('counts', () => diceCounts(traced, mask));
  b.output(loss, 'loss');
  b.output(counts.tp, 'tp');
  b.output(counts.fp, 'fp');
  b.output(counts.fn, 'fn');
  b.output(sums.intersection, 'intersection');
  b.output(sums.cardinality, 'cardinality');
  b.output(sums.positives, 'positives');
  if (mode === 'eval') b.output(traced, 'logits_traced');
  finish(b, ctx, loss, mode);
  return { graph: b.toGraph(`${model.config.encoder}_weak_${mode}`), specs: ctx.specs };
}
