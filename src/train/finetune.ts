// Fine-tuning a model on a few traced frames with its artifact set's weak-supervision train and
// optimizer graphs, on any ONNX Runtime: the browser viewer's worker runs it on onnxruntime-web.
// Browser-safe. One step is what ort-train's runner does for a whole batch (src/train/runner.ts):
// the train graph with the parameters and the batch (others_* zero), then the optimizer graph with
// the gradients, lr and the 1-based step. Samples come from the same clip choice and augmentation
// as ort-train's (tracedFrameSample).
import type { TrainingState } from '../artifacts/checkpoint-layout.js';
import type { GraphIO, Manifest } from '../artifacts/manifest.js';
import { tracedFrameSample, type TracedFrame } from '../data/samples.js';
import type { DecodedVideo } from '../data/video.js';
import { dscFromCounts } from '../eval/metrics.js';
import type { ClipModel } from '../infer/segment-core.js';
import { Rng } from '../util/rng.js';

/** What both onnxruntime-node's and onnxruntime-web's tensors and sessions offer. */
export interface TensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}
export type MakeTensor = (
  type: 'float32' | 'uint8' | 'int64',
  data: Float32Array | Uint8Array | BigInt64Array,
  dims: readonly number[],
) => TensorLike;
export interface GraphSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>>;
}

/** What fine-tuning needs of a set's manifest. */
export type TrainingLayout = Pick<Manifest, 'params' | 'model' | 'weak'>;

/** One traced frame of a video whose frames are at the model's input size. */
export interface TraceSample {
  /** The video's name, for messages. */
  name: string;
  frames: DecodedVideo;
  trace: TracedFrame;
}

/** A weak-supervision batch as the train graph takes it. */
export interface FineTuneBatch {
  frames: Uint8Array;
  trace_mask: Float32Array;
  trace_index: BigInt64Array;
  /** which sample (index into the sample list) each item is */
  samples: number[];
}

/**
 * Step `step`'s batch (0-based): the samples in passes over the list, each pass in a seeded order,
 * and each sample's clip and augmentation drawn from Rng.derive(seed, pass, position), as the
 * loader derives them per epoch and index.
 */
export function fineTuneBatch(
  samples: readonly TraceSample[],
  step: number,
  batchSize: number,
  seed: number,
  layout: TrainingLayout,
): FineTuneBatch {
  const n = samples.length;
  if (n === 0) throw new Error('no traced frames to train on');
  const { frames: T, period: p, size } = layout.model;
  const clipBytes = T * size * size * 3;
  const out: FineTuneBatch = {
    frames: new Uint8Array(batchSize * clipBytes),
    trace_mask: new Float32Array(batchSize * size * size),
    trace_index: new BigInt64Array(batchSize),
    samples: [],
  };
  for (let j = 0; j < batchSize; j++) {
    const q = step * batchSize + j;
    const pass = Math.floor(q / n);
    const order = Rng.derive(seed, pass).shuffle(Array.from({ length: n }, (_, i) => i));
    const k = order[q % n];
    const s = samples[k];
    const video = { path: s.name, fileName: s.name };
    const w = tracedFrameSample(video, s.frames, s.trace, T, p, true, Rng.derive(seed, pass, q % n), size);
    out.frames.set(w.frames, j * clipBytes);
    out.trace_mask.set(w.traceMask, j * size * size);
    out.trace_index[j] = BigInt(w.relIndex);
    out.samples.push(k);
  }
  return out;
}

export interface StepOutcome {
  loss: number;
  /** hard counts of the batch's traced frames at sigmoid > 0.5 */
  tp: number;
  fp: number;
  fn: number;
}

/** Parameters and AdamW state between steps, and one step after another. */
export class FineTuner {
  readonly state: TrainingState;
  private readonly trainable: TrainingLayout['params'];

  constructor(
    private readonly train: GraphSession,
    private readonly optimizer: GraphSession,
    private readonly tensor: MakeTensor,
    private readonly layout: TrainingLayout,
    /** every parameter and buffer of the layout, graph layout (e.g. model.onnx's initializers) */
    params: ReadonlyMap<string, Float32Array>,
  ) {
    this.trainable = layout.params.filter((q) => q.kind === 'param');
    // A fresh AdamW state, as a weak-supervision run from a checkpoint starts with.
    const moments = new Map<string, Float32Array>();
    for (const q of this.trainable)
      for (const s of layout.weak.stateSuffixes)
        moments.set(`${q.name}.${s}`, new Float32Array(q.shape.reduce((a, b) => a * b, 1)));
    this.state = { params: new Map(params), optimizer: moments, step: 0, epoch: 0, metadata: {} };
  }

  async step(batch: FineTuneBatch, lr: number): Promise<StepOutcome> {
    const { frames: T, size } = this.layout.model;
    const n = batch.trace_index.length;
    const scalar = (v: number) => this.tensor('float32', Float32Array.of(v), []);
    const feeds: Record<string, TensorLike> = {
      frames: this.tensor('uint8', batch.frames, [n, T, size, size, 3]),
      trace_mask: this.tensor('float32', batch.trace_mask, [n, size, size]),
      trace_index: this.tensor('int64', batch.trace_index, [n]),
    };
    for (const q of this.layout.params)
      feeds[q.name] = this.tensor('float32', this.state.params.get(q.name)!, q.shape);
    for (const k of ['others_intersection', 'others_cardinality', 'others_positives']) feeds[k] = scalar(0);
    const wanted = new Set(this.train.inputNames);
    const out = await this.train.run(
      Object.fromEntries(Object.entries(feeds).filter(([k]) => wanted.has(k))),
    );
    const num = (k: string) => Number((out[k].data as Float32Array)[0]);
    const loss = num('loss');
    if (!Number.isFinite(loss))
      throw new Error(`the training loss became ${loss} at step ${this.state.step + 1}; stopped`);
    for (const q of this.layout.params)
      if (q.kind === 'buffer' && out[`${q.name}.new`])
        this.state.params.set(q.name, out[`${q.name}.new`].data as Float32Array);

    const step = this.state.step + 1;
    const opt: Record<string, TensorLike> = { lr: scalar(lr), step: scalar(step) };
    const suffixes = this.layout.weak.stateSuffixes;
    for (const q of this.trainable) {
      opt[q.name] = feeds[q.name];
      opt[`${q.name}.grad`] = out[`${q.name}.grad`];
      for (const s of suffixes)
        opt[`${q.name}.${s}`] = this.tensor('float32', this.state.optimizer.get(`${q.name}.${s}`)!, q.shape);
    }
    const next = await this.optimizer.run(opt);
    for (const q of this.trainable) {
      this.state.params.set(q.name, next[`${q.name}.new`].data as Float32Array);
      for (const s of suffixes)
        this.state.optimizer.set(`${q.name}.${s}`, next[`${q.name}.${s}.new`].data as Float32Array);
    }
    this.state.step = step;
    return { loss, tp: num('tp'), fp: num('fp'), fn: num('fn') };
  }
}

/**
 * Pooled DSC of a model on traced frames it did not train on: each frame's centred clip (as
 * validation takes it) through the model, logit > 0 against the tracing's mask, counts summed
 * over the frames.
 */
export async function tracedFramesDsc(
  model: ClipModel,
  samples: readonly TraceSample[],
): Promise<{ dsc: number; tp: number; fp: number; fn: number; frames: number }> {
  const { frames: T, period: p, size } = model;
  let [tp, fp, fn] = [0, 0, 0];
  const plane = size * size;
  for (const s of samples) {
    const video = { path: s.name, fileName: s.name };
    const w = tracedFrameSample(video, s.frames, s.trace, T, p, false, new Rng(0), size);
    const logits = await model.run(w.frames, 1);
    const at = w.relIndex * plane;
    for (let i = 0; i < plane; i++) {
      const pred = logits[at + i] > 0;
      const truth = w.traceMask[i] > 0.5;
      if (pred && truth) tp++;
      else if (pred) fp++;
      else if (truth) fn++;
    }
  }
  return { dsc: dscFromCounts(tp, fp, fn), tp, fp, fn, frames: samples.length };
}

/** The parameter inputs a graph takes: its inputs that the layout names as parameters or buffers. */
function paramInputs(inputs: readonly GraphIO[], layout: TrainingLayout): GraphIO[] {
  const names = new Set(layout.params.map((q) => q.name));
  return inputs.filter((i) => names.has(i.name));
}

/**
 * Refuses training graphs that do not belong to the loaded model: the manifest's parameters and
 * the train and optimizer graphs' parameter inputs must be the model's initializers, same names
 * and shapes, and the model's clip size the set's. Throws one error listing the differences.
 */
export function checkTrainingGraphs(
  what: string,
  modelName: string,
  model: { initializers: ReadonlyMap<string, { dims: readonly number[] }>; frames: number; size: number },
  layout: TrainingLayout,
  train: readonly GraphIO[],
  optimizer: readonly GraphIO[],
): void {
  // A parameter no graph reads (UniFormer's ImageNet head) is in no model.onnx: the page could not
  // write a complete checkpoint.safetensors, so it is refused before any step.
  const unused = layout.params.filter((q) => q.kind === 'unused');
  if (unused.length)
    throw new Error(
      `${what}: ${layout.model.encoder} has ${unused.length} parameter${unused.length > 1 ? 's' : ''} in its checkpoint that no graph reads (${unused.map((q) => q.name).join(', ')}), which ${modelName} does not hold: fine-tune it with ort-train, the page cannot write its checkpoint.safetensors`,
    );
  const problems: string[] = [];
  const dims = (d: readonly (number | string)[]) => `[${d.join(',')}]`;
  for (const q of layout.params) {
    const init = model.initializers.get(q.name);
    if (!init) problems.push(`${q.name} ${dims(q.shape)} is not a weight of ${modelName}`);
    else if (dims(init.dims) !== dims(q.shape))
      problems.push(
        `${q.name} is ${dims(q.shape)} in the training graphs, ${dims(init.dims)} in ${modelName}`,
      );
  }
  const declared = new Map(layout.params.map((q) => [q.name, dims(q.shape)]));
  for (const [file, inputs, need] of [
    ['train_weak.onnx', train, layout.params],
    ['optimizer_weak.onnx', optimizer, layout.params.filter((q) => q.kind === 'param')],
  ] as const) {
    const got = new Map(paramInputs(inputs, layout).map((i) => [i.name, dims(i.shape)]));
    for (const q of need)
      if (!got.has(q.name)) problems.push(`${file} takes no input ${q.name}`);
      else if (got.get(q.name) !== declared.get(q.name))
        problems.push(
          `${file} takes ${q.name} as ${got.get(q.name)}, manifest.json says ${declared.get(q.name)}`,
        );
  }
  const frames = train.find((i) => i.name === 'frames');
  const want = `[N,${model.frames},${model.size},${model.size},3]`;
  if (!frames) problems.push('train_weak.onnx has no frames input');
  else if (dims(frames.shape.map((d, i) => (i === 0 ? 'N' : d))) !== want)
    problems.push(`train_weak.onnx takes clips ${dims(frames.shape)}, ${modelName} takes ${want}`);
  for (const k of ['trace_mask', 'trace_index'])
    if (!train.some((i) => i.name === k))
      problems.push(`train_weak.onnx has no ${k} input (not a weak train graph)`);
  if (problems.length) {
    const shown = problems.slice(0, 8);
    if (problems.length > 8) shown.push(`... and ${problems.length - 8} more`);
    throw new Error(
      `${what}: these training graphs belong to another model than ${modelName} (${problems.length} difference${problems.length > 1 ? 's' : ''}):\n  ${shown.join('\n  ')}`,
    );
  }
}
