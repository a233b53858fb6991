// Runs one phase's graphs of an artifact set with ONNX Runtime: a training step (train graph on
// each micro-batch, gradients summed, then the optimizer graph) and evaluation batches.
import type { ArtifactSet, Manifest, TrainingState } from '../artifacts/index.js';
import type { SslBatch, WeakBatch } from '../data/loader.js';
import { createSession, onDevice, tensor, type Feeds, type ort, type Provider } from '../onnx/runtime.js';
import type { Phase } from '../defaults.js';
import { ResidentState } from './resident.js';

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
    /** the weights between steps: the state's own arrays on the CPU, device memory on a GPU */
    readonly resident: ResidentState,
  ) {}

  static async open(
    set: ArtifactSet,
    phase: Phase,
    opts: { ep?: Provider; threads?: number } = {},
  ): Promise<PhaseRunner> {
    const f = set.files;
    const m = set.manifest;
    const ep = opts.ep ?? 'cpu';
    const trainable = m.params.filter((p) => p.kind === 'param').map((p) => p.name);
    const buffers = m.params.filter((p) => p.kind === 'buffer').map((p) => `${p.name}.new`);
    const suffixes = m[phase].stateSuffixes;
    // Gradients, new running statistics and the optimizer's outputs stay on the device (GPU).
    const deviceOutputs = {
      train: [...trainable.map((n) => `${n}.grad`), ...buffers],
      evaluate: [],
      optimizer: trainable.flatMap((n) => [`${n}.new`, ...suffixes.map((s) => `${n}.${s}.new`)]),
    };
    const files =
      phase === 'ssl'
        ? [f.train_ssl, f.eval_ssl, f.optimizer_ssl]
        : [f.train_weak, f.eval_weak, f.optimizer_weak];
    const [train, evaluate, optimizer] = await Promise.all(
      (['train', 'evaluate', 'optimizer'] as const).map((k, i) =>
        createSession(files[i], { ep, threads: opts.threads, deviceOutputs: deviceOutputs[k] }),
      ),
    );
    return new PhaseRunner(
      phase,
      m,
      train,
      evaluate,
      optimizer,
      new ResidentState(ep, m, suffixes, opts.threads),
    );
  }

  private get trainable() {
    return this.manifest.params.filter((p) => p.kind === 'param');
  }

  private async paramFeeds(state: TrainingState, names: readonly string[]): Promise<Feeds> {
    const held = await this.resident.tensors(state);
    const feeds: Feeds = {};
    for (const p of this.manifest.params) if (names.includes(p.name)) feeds[p.name] = held.get(p.name)!;
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
    const feeds = { ...(await this.paramFeeds(state, names)), ...this.batchFeeds(b, names) };
    const out = await this.evaluate.run(feeds);
    this.count(feeds, out);
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
   * On a GPU the state's arrays are left behind (see ResidentState): `sync` before reading them.
   * `lrScale` multiplies the learning rate per parameter (0 = frozen: weights and optimizer state
   * untouched); without it every parameter uses `lr`.
   */
  async step(
    state: TrainingState,
    b: AnyBatch,
    lr: number,
    microBatch = 0,
    lrScale?: (name: string) => number,
  ): Promise<StepResult> {
    const n = batchSize(b);
    const m = microBatch > 0 ? Math.min(microBatch, n) : n;
    const parts: AnyBatch[] = [];
    for (let i = 0; i < n; i += m) parts.push(sliceBatch(b, i, Math.min(n, i + m)));
    const names = this.train.inputNames;
    const pooled = this.phase === 'weak' && parts.length > 1;
    const partSums: WeakSums[] = [];
    this.resident.traffic = { toDevice: 0, toHost: 0 };
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
    let grads: Feeds | undefined;
    let loss = 0;
    let sums: WeakSums | undefined;
    for (let k = 0; k < parts.length; k++) {
      const feeds = { ...(await this.paramFeeds(state, names)), ...this.batchFeeds(parts[k], names) };
      if (names.includes('others_intersection')) {
        const others = total ? subSums(total, partSums[k]) : undefined;
        feeds.others_intersection = tensor('float32', Float32Array.of(others?.intersection ?? 0), []);
        feeds.others_cardinality = tensor('float32', Float32Array.of(others?.cardinality ?? 0), []);
        feeds.others_positives = tensor('float32', Float32Array.of(others?.positives ?? 0), []);
      }
      const out = await this.train.run(feeds);
      this.count(feeds, out);
      const weight = this.phase === 'ssl' ? batchSize(parts[k]) / n : 1;
      const partLoss = Number(out.loss.data[0]);
      loss = this.phase === 'ssl' ? loss + weight * partLoss : partLoss; // weak: every part reports the whole-batch loss
      if (this.phase === 'weak') sums = sums ? addSums([sums, readSums(out)]) : readSums(out);
      const partGrads = Object.fromEntries(this.trainable.map((p) => [p.name, out[`${p.name}.grad`]]));
      if (!Number.isFinite(partLoss)) {
        disposeAll(partGrads, grads);
        throw new NonFiniteLossError(state.step + 1, partLoss);
      }
      if (parts.length === 1) grads = partGrads;
      else {
        const summed = grads
          ? await this.resident.accumulate(grads, 1, partGrads, weight)
          : await this.resident.accumulate(partGrads, weight, partGrads, 0);
        disposeAll(partGrads, grads);
        grads = summed;
      }
      // Running statistics (BatchNorm models) are updated micro-batch by micro-batch, in order.
      const running = new Map<string, ort.Tensor>();
      for (const p of this.manifest.params)
        if (p.kind === 'buffer' && out[`${p.name}.new`]) running.set(p.name, out[`${p.name}.new`]);
      if (running.size) this.resident.replace(state, running);
    }
    await this.applyOptimizer(state, grads!, lr, lrScale);
    return { loss, sums };
  }

  /**
   * The optimizer graph takes one learning rate: parameters with different multipliers are
   * updated by one run per distinct multiplier, each keeping only its own parameters' outputs;
   * a multiplier of 0 leaves a parameter and its optimizer state untouched (frozen).
   */
  private async applyOptimizer(
    state: TrainingState,
    grads: Feeds,
    lr: number,
    lrScale?: (name: string) => number,
  ): Promise<void> {
    const suffixes = this.manifest[this.phase].stateSuffixes;
    const step = state.step + 1;
    const held = await this.resident.tensors(state);
    const groups = new Map<number, string[]>();
    for (const p of this.trainable) {
      const scale = lrScale ? lrScale(p.name) : 1;
      groups.set(scale, [...(groups.get(scale) ?? []), p.name]);
    }
    const next = new Map<string, ort.Tensor>();
    for (const [scale, names] of groups) {
      if (scale === 0) continue;
      const feeds: Feeds = {
        lr: tensor('float32', Float32Array.of(lr * scale), []),
        step: tensor('float32', Float32Array.of(step), []),
      };
      for (const p of this.trainable) {
        feeds[p.name] = held.get(p.name)!;
        feeds[`${p.name}.grad`] = grads[p.name];
        for (const s of suffixes) feeds[`${p.name}.${s}`] = held.get(`${p.name}.${s}`)!;
      }
      const out = await this.optimizer.run(feeds);
      this.count(feeds, out);
      const kept = new Set<string>();
      for (const name of names)
        for (const key of [`${name}.new`, ...suffixes.map((s) => `${name}.${s}.new`)]) {
          next.set(key.slice(0, -'.new'.length), out[key]);
          kept.add(key);
        }
      disposeAll(Object.fromEntries(Object.entries(out).filter(([k]) => !kept.has(k))));
    }
    disposeAll(grads);
    this.resident.replace(state, next);
    state.step = step;
  }

  /** Adds a run's host tensors to the step's traffic (what crosses to and from a GPU). */
  private count(feeds: Feeds, out: Record<string, ort.Tensor>): void {
    if (!this.resident.onGpu) return;
    const bytes = (ts: ort.Tensor[]) =>
      ts.filter((t) => !onDevice(t)).reduce((a, t) => a + (t.data as ArrayBufferView).byteLength, 0);
    this.resident.traffic.toDevice += bytes(Object.values(feeds));
    this.resident.traffic.toHost += bytes(Object.values(out));
  }

  /** Brings the state's arrays up to date (a no-op on the CPU): call before writing a checkpoint. */
  sync(state: TrainingState): Promise<void> {
    return this.resident.sync(state);
  }

  async release(): Promise<void> {
    await this.resident.release();
    await Promise.all([this.train.release(), this.evaluate.release(), this.optimizer.release()]);
  }
}

/** Frees device tensors no longer needed (host tensors are left to the garbage collector). */
function disposeAll(...sets: (Feeds | undefined)[]): void {
  for (const set of sets) for (const t of Object.values(set ?? {})) if (onDevice(t)) t.dispose();
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
