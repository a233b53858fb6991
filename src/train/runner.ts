// Runs one phase's graphs of an artifact set with ONNX Runtime: a training step (train graph on
// each micro-batch, gradients summed, then the optimizer graph) and evaluation batches.
import type { ArtifactSet, Manifest, TrainingState } from '../artifacts/index.js';
import type { SslBatch, WeakBatch } from '../data/loader.js';
import { createSession, tensor, type ExecutionProvider, type Feeds, type ort } from '../onnx/runtime.js';
import type { Phase } from '../defaults.js';

export type AnyBatch = WeakBatch | SslBatch;

/** Soft and hard sums of a weak batch; pooled over a split they give val_loss and val_dsc. */
export interface WeakSums {
  intersection: number;
  cardinality: number;
  positives: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface StepResult {
  loss: number;
  sums?: WeakSums;
}

export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(`the training loss became ${loss} at step ${step}; stopped (the last good checkpoint is kept)`);
  }
}

const batchSize = (b: AnyBatch) => b.items.length;

/** Samples [from, to) of a batch, as views (no copies). */
function sliceBatch<B extends AnyBatch>(b: B, from: number, to: number): B {
  const n = batchSize(b);
  const per = (a: { length: number }) => a.length / n;
  const cut = <A extends Uint8Array | Float32Array | BigInt64Array>(a: A): A =>
    a.subarray(from * per(a), to * per(a)) as A;
  if ('trace_mask' in b)
    return {
      frames: cut(b.frames),
      trace_mask: cut(b.trace_mask),
      trace_index: cut(b.trace_index),
      items: b.items.slice(from, to),
    } as B;
  return { frames: cut(b.frames), keep: cut((b as SslBatch).keep), items: b.items.slice(from, to) } as B;
}

export class PhaseRunner {
  private constructor(
    readonly phase: Phase,
    readonly manifest: Manifest,
    private readonly train: ort.InferenceSession,
    private readonly evaluate: ort.InferenceSession,
    private readonly optimizer: ort.InferenceSession,
  ) {}

  static async open(
    set: ArtifactSet,
    phase: Phase,
    opts: { ep?: ExecutionProvider; threads?: number } = {},
  ): Promise<PhaseRunner> {
    const f = set.files;
    const [train, evaluate, optimizer] = await Promise.all(
      (phase === 'ssl'
        ? [f.train_ssl, f.eval_ssl, f.optimizer_ssl]
        : [f.train_weak, f.eval_weak, f.optimizer_weak]
      ).map((file) => createSession(file, opts)),
    );
    return new PhaseRunner(phase, set.manifest, train, evaluate, optimizer);
  }

  private get trainable() {
    return this.manifest.params.filter((p) => p.kind === 'param');
  }

  private paramFeeds(state: TrainingState, names: readonly string[]): Feeds {
    const feeds: Feeds = {};
    for (const p of this.manifest.params)
      if (names.includes(p.name)) feeds[p.name] = tensor('float32', state.params.get(p.name)!, p.shape);
    return feeds;
  }

  private batchFeeds(b: AnyBatch, names: readonly string[]): Feeds {
    const { frames: T, size } = this.manifest.model;
    const n = batchSize(b);
    const feeds: Feeds = { frames: tensor('uint8', b.frames, [n, T, size, size, 3]) };
    if ('trace_mask' in b) {
      feeds.trace_mask = tensor('float32', b.trace_mask, [n, size, size]);
      feeds.trace_index = tensor('int64', b.trace_index, [n]);
    } else feeds.keep = tensor('float32', b.keep, [n, T]);
    for (const k of Object.keys(feeds)) if (!names.includes(k)) delete feeds[k];
    return feeds;
  }

  /** Forward only (evaluation graph: BatchNorm on running statistics). */
  async evalBatch(
    state: TrainingState,
    b: AnyBatch,
  ): Promise<{ loss: number; sums?: WeakSums; logits?: Float32Array }> {
    const names = this.evaluate.inputNames;
    const out = await this.evaluate.run({ ...this.paramFeeds(state, names), ...this.batchFeeds(b, names) });
    const loss = Number(out.loss.data[0]);
    if (this.phase === 'ssl') return { loss };
    return { loss, sums: readSums(out), logits: out.logits_traced?.data as Float32Array | undefined };
  }

  /**
   * One optimizer step on a batch split into micro-batches of `microBatch` samples. SSL: the MSE
   * is a mean, so micro-batch gradients are weighted by their share of the batch. Weak: the Dice
   * loss is pooled over the whole batch, so a first forward pass gets every micro-batch's soft
   * sums, and each micro-batch's train run is given the sums of the others (`others_*` inputs):
   * its gradient is then exactly its share of the whole-batch gradient, and they add up.
   */
  async step(state: TrainingState, b: AnyBatch, lr: number, microBatch = 0): Promise<StepResult> {
    const n = batchSize(b);
    const m = microBatch > 0 ? Math.min(microBatch, n) : n;
    const parts: AnyBatch[] = [];
    for (let i = 0; i < n; i += m) parts.push(sliceBatch(b, i, Math.min(n, i + m)));
    const names = this.train.inputNames;
    const pooled = this.phase === 'weak' && parts.length > 1;
    const partSums: WeakSums[] = [];
    if (pooled) {
      if (!names.includes('others_intersection'))
        throw new Error(
          'this train_weak.onnx cannot micro-batch (no others_* inputs); rebuild the artifact set',
        );
      // Forward passes with the evaluation graph: exact for instance-norm models; BatchNorm models
      // see running instead of batch statistics in this pass (documented approximation).
      for (const p of parts) partSums.push((await this.evalBatch(state, p)).sums!);
    }
    const total = pooled ? addSums(partSums) : undefined;
    let grads: Map<string, Float32Array> | undefined;
    let loss = 0;
    let sums: WeakSums | undefined;
    for (let k = 0; k < parts.length; k++) {
      const feeds = { ...this.paramFeeds(state, names), ...this.batchFeeds(parts[k], names) };
      if (names.includes('others_intersection')) {
        const others = total ? subSums(total, partSums[k]) : undefined;
        feeds.others_intersection = tensor('float32', Float32Array.of(others?.intersection ?? 0), []);
        feeds.others_cardinality = tensor('float32', Float32Array.of(others?.cardinality ?? 0), []);
        feeds.others_positives = tensor('float32', Float32Array.of(others?.positives ?? 0), []);
      }
      const out = await this.train.run(feeds);
      const weight = this.phase === 'ssl' ? batchSize(parts[k]) / n : 1;
      const partLoss = Number(out.loss.data[0]);
      loss = this.phase === 'ssl' ? loss + weight * partLoss : partLoss; // weak: every part reports the whole-batch loss
      if (this.phase === 'weak') sums = sums ? addSums([sums, readSums(out)]) : readSums(out);
      if (!Number.isFinite(partLoss)) throw new NonFiniteLossError(state.step + 1, partLoss);
      grads = accumulate(
        grads,
        out,
        this.trainable.map((p) => p.name),
        weight,
        parts.length === 1,
      );
      // Running statistics (BatchNorm models) are updated micro-batch by micro-batch, in order.
      for (const p of this.manifest.params)
        if (p.kind === 'buffer' && out[`${p.name}.new`])
          state.params.set(p.name, out[`${p.name}.new`].data as Float32Array);
    }
    await this.applyOptimizer(state, grads!, lr);
    return { loss, sums };
  }

  private async applyOptimizer(
    state: TrainingState,
    grads: Map<string, Float32Array>,
    lr: number,
  ): Promise<void> {
    const suffixes = this.manifest[this.phase].stateSuffixes;
    const step = state.step + 1;
    const feeds: Feeds = {
      lr: tensor('float32', Float32Array.of(lr), []),
      step: tensor('float32', Float32Array.of(step), []),
    };
    for (const p of this.trainable) {
      feeds[p.name] = tensor('float32', state.params.get(p.name)!, p.shape);
      feeds[`${p.name}.grad`] = tensor('float32', grads.get(p.name)!, p.shape);
      for (const s of suffixes) {
        const key = `${p.name}.${s}`;
        let v = state.optimizer.get(key);
        if (!v) state.optimizer.set(key, (v = new Float32Array(grads.get(p.name)!.length)));
        feeds[key] = tensor('float32', v, p.shape);
      }
    }
    const out = await this.optimizer.run(feeds);
    for (const p of this.trainable) {
      state.params.set(p.name, out[`${p.name}.new`].data as Float32Array);
      for (const s of suffixes)
        state.optimizer.set(`${p.name}.${s}`, out[`${p.name}.${s}.new`].data as Float32Array);
    }
    state.step = step;
  }

  async release(): Promise<void> {
    await Promise.all([this.train.release(), this.evaluate.release(), this.optimizer.release()]);
  }
}

function readSums(out: Record<string, ort.Tensor>): WeakSums {
  const v = (k: string) => (out[k] ? Number(out[k].data[0]) : NaN);
  return {
    intersection: v('intersection'),
    cardinality: v('cardinality'),
    positives: v('positives'),
    tp: v('tp'),
    fp: v('fp'),
    fn: v('fn'),
  };
}

export function addSums(list: WeakSums[]): WeakSums {
  const r: WeakSums = { intersection: 0, cardinality: 0, positives: 0, tp: 0, fp: 0, fn: 0 };
  for (const s of list) for (const k of Object.keys(r) as (keyof WeakSums)[]) r[k] += s[k];
  return r;
}

function subSums(a: WeakSums, b: WeakSums): WeakSums {
  const r = { ...a };
  for (const k of Object.keys(r) as (keyof WeakSums)[]) r[k] -= b[k];
  return r;
}

/** grads += weight * out[.grad]; the first micro-batch's arrays are taken over without a copy when alone. */
function accumulate(
  acc: Map<string, Float32Array> | undefined,
  out: Record<string, ort.Tensor>,
  names: string[],
  weight: number,
  only: boolean,
) {
  const result = acc ?? new Map<string, Float32Array>();
  for (const name of names) {
    const g = out[`${name}.grad`].data as Float32Array;
    const cur = result.get(name);
    if (!cur) {
      result.set(name, only && weight === 1 ? g : scaled(g, weight));
      continue;
    }
    for (let i = 0; i < g.length; i++) cur[i] += weight * g[i];
  }
  return result;
}

function scaled(g: Float32Array, w: number): Float32Array {
  const r = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) r[i] = w * g[i];
  return r;
}
