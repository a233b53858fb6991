import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Rng } from '../util/rng.js';
import { FrameCache, cacheDirForVideo } from './cache.js';
import type { EchoVideo } from './echonet.js';
import type { BadItemHandler } from './errors.js';
import {
  runTask,
  WORKER_KIND,
  type Outcome,
  type ResultMsg,
  type TaskMsg,
  type WorkerInit,
} from './loader-worker.js';
import {
  sampleList,
  type SampleConfig,
  type SampleRef,
  type SslSample,
  type SslVideo,
  type WeakSample,
  type Which,
} from './samples.js';
import { DEFAULT_MASK_RATIO, DEFAULT_SEED, FRAME_SIZE, type Phase } from '../defaults.js';

/** Weak-supervision batch, shaped for train_weak.onnx. */
export interface WeakBatch {
  /** uint8 RGB [N, T, H, W, 3]. */
  frames: Uint8Array;
  /** [N, H, W]. */
  trace_mask: Float32Array;
  /** [N]: clip position of each traced frame (upstream rel_trace_index). */
  trace_index: BigInt64Array;
  items: { fileName: string; which: Which; traceFrame: number }[];
}

/** SSL batch, shaped for train_ssl.onnx. */
export interface SslBatch {
  frames: Uint8Array;
  /** [N, T]: 1 visible, 0 masked. */
  keep: Float32Array;
  items: { fileName: string }[];
}

export type BatchOf<P extends Phase> = P extends 'weak' ? WeakBatch : SslBatch;

/** Weak batches need traced videos; SSL batches take any video. */
export type VideoOf<P extends Phase> = P extends 'weak' ? EchoVideo : SslVideo;

export interface LoaderOptions<P extends Phase> {
  videos: readonly VideoOf<P>[];
  phase: P;
  /** T and p of the clips. */
  frames: number;
  period: number;
  batchSize: number;
  /** Random clips + augmentation (training) or centred clips, no augmentation (evaluation). */
  train: boolean;
  shuffle?: boolean;
  dropLast?: boolean;
  /** 0: prepare samples on the main thread; n: in n worker threads. */
  numWorkers?: number;
  /** Batches prepared ahead of the one being consumed (default 2). */
  prefetch?: number;
  seed?: number;
  maskRatio?: number;
  /** The model's frame side; clips (and masks) are shrunk to it from 112 (default 112). */
  size?: number;
  /** Decoded-frame cache folder; default `defaultCacheDir(<root of the first video>)`. */
  cacheDir?: string;
  /** A bad video is reported here once and skipped from then on (default: a line on stderr). */
  onBadItem?: BadItemHandler;
  /** A bad video stops the epoch with its error instead (upstream's behaviour). */
  strict?: boolean;
  /** Videos (paths) already known bad, e.g. saved with a checkpoint: skipped silently. */
  knownBad?: Iterable<string>;
}

interface Slot {
  worker: Worker;
  pending: Map<number, (o: Outcome) => void>;
}

/**
 * Batches over an epoch's sample list (two weak samples per video, ED then ES, or one SSL
 * sample), prepared ahead so data work overlaps the ONNX Runtime step. Sample k of epoch e uses
 * Rng.derive(seed, e, k), so batches do not depend on the number of workers or on resuming.
 */
export class BatchLoader<P extends Phase> {
  readonly refs: SampleRef[];
  private readonly cfg: SampleConfig;
  private readonly cacheDir: string;
  private readonly bad = new Set<string>();
  private readonly onBad: BadItemHandler;
  private slots: Slot[] = [];
  private cache?: FrameCache;
  private nextId = 0;

  constructor(private readonly opts: LoaderOptions<P>) {
    if (!(opts.batchSize >= 1)) throw new Error(`batch size must be >= 1, got ${opts.batchSize}`);
    this.refs = sampleList(opts.videos.length, opts.phase);
    this.cfg = {
      phase: opts.phase,
      frames: opts.frames,
      period: opts.period,
      train: opts.train,
      seed: opts.seed ?? DEFAULT_SEED,
      maskRatio: opts.maskRatio ?? DEFAULT_MASK_RATIO,
      size: opts.size ?? FRAME_SIZE,
    };
    const first = opts.videos[0]?.path ?? '.';
    this.cacheDir = opts.cacheDir ?? cacheDirForVideo(first);
    for (const f of opts.knownBad ?? []) this.bad.add(resolve(f));
    this.onBad =
      opts.onBadItem ?? ((file, problem) => process.stderr.write(`skipping bad video ${file}: ${problem}\n`));
  }

  /** Videos reported bad so far (absolute paths). */
  badFiles(): string[] {
    return [...this.bad];
  }

  /** Order of the sample list in an epoch, known-bad videos left out. */
  order(epoch: number): number[] {
    const idx = this.refs.map((_, i) => i);
    if (this.opts.shuffle) Rng.derive(this.cfg.seed, epoch).shuffle(idx);
    return idx.filter((i) => !this.bad.has(resolve(this.opts.videos[this.refs[i].video].path)));
  }

  /** Batches in an epoch, given the videos known bad now. */
  batchCount(epoch = 0): number {
    const n = this.order(epoch).length;
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }

  /**
   * The batches of epoch `epoch`, from batch `startBatch` on (resume). Resuming reproduces the
   * uninterrupted run when no new bad video turned up before that batch in the epoch.
   */
  async *epoch(epoch: number, startBatch = 0): AsyncGenerator<BatchOf<P>> {
    const { batchSize, videos } = this.opts;
    const order = this.order(epoch).slice(startBatch * batchSize);
    const window = ((this.opts.prefetch ?? 2) + 1) * batchSize;
    const results = new Map<number, Promise<Outcome>>();
    let dispatched = 0;
    let consumed = 0;
    let stopped = false;
    const pump = (): void => {
      while (!stopped && dispatched < order.length && dispatched - consumed < window) {
        const k = dispatched++;
        const index = order[k];
        const done = this.run({ id: this.nextId++, epoch, index, ref: this.refs[index] });
        results.set(k, done);
        void done.then(pump);
      }
    };
    let batch: (WeakSample | SslSample)[] = [];
    try {
      pump();
      for (; consumed < order.length; consumed++) {
        const path = resolve(videos[this.refs[order[consumed]].video].path);
        const o = await results.get(consumed)!;
        results.delete(consumed);
        pump();
        if (o.ok) {
          // A video found bad after this sample was dispatched loses its other sample as well,
          // so the batches do not depend on how far ahead the workers ran.
          if (!this.bad.has(path)) batch.push(o.sample);
        } else if ('fatal' in o) {
          throw new Error(`data loader failed on ${path}: ${o.fatal}`);
        } else if (this.opts.strict) {
          throw new Error(`${o.bad.file}: ${o.bad.problem}`);
        } else if (!this.bad.has(path)) {
          this.bad.add(path);
          this.onBad(o.bad.file, o.bad.problem);
        }
        if (batch.length === batchSize) {
          yield collate(batch, this.opts.phase) as BatchOf<P>;
          batch = [];
        }
      }
      if (batch.length > 0 && !this.opts.dropLast) yield collate(batch, this.opts.phase) as BatchOf<P>;
    } finally {
      stopped = true;
    }
  }

  /** Stop the worker threads. */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private run(t: TaskMsg): Promise<Outcome> {
    const n = this.opts.numWorkers ?? 0;
    if (n <= 0) {
      this.cache ??= new FrameCache(this.cacheDir);
      return runTask(this.opts.videos, this.cache, this.cfg, t);
    }
    if (this.slots.length === 0) this.slots = Array.from({ length: n }, () => this.spawn());
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    return new Promise<Outcome>((resolveTask) => {
      slot.pending.set(t.id, resolveTask);
      slot.worker.ref(); // keep the process alive while work is out
      slot.worker.postMessage(t);
    });
  }

  private spawn(): Slot {
    const init: WorkerInit = {
      kind: WORKER_KIND,
      videos: this.opts.videos,
      cacheDir: this.cacheDir,
      cfg: this.cfg,
    };
    const worker = new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: init });
    const slot: Slot = { worker, pending: new Map() };
    worker.unref(); // an idle pool must not keep the process alive if close() is forgotten
    const failAll = (why: string) => {
      for (const r of slot.pending.values()) r({ ok: false, fatal: why });
      slot.pending.clear();
      this.slots = this.slots.filter((s) => s !== slot);
    };
    worker.on('message', (m: ResultMsg) => {
      const r = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      r?.(m);
    });
    worker.on('error', (e) => failAll(`loader worker crashed: ${e.stack ?? e.message}`));
    worker.on('exit', (code) => failAll(`loader worker exited with code ${code}`));
    return slot;
  }
}

/** Stack samples into one batch. */
function collate(samples: (WeakSample | SslSample)[], phase: Phase): WeakBatch | SslBatch {
  const n = samples.length;
  const clipBytes = samples[0].frames.length;
  const frames = new Uint8Array(n * clipBytes);
  samples.forEach((s, i) => frames.set(s.frames, i * clipBytes));
  if (phase === 'ssl') {
    const ssl = samples as SslSample[];
    const T = ssl[0].keep.length;
    const keep = new Float32Array(n * T);
    ssl.forEach((s, i) => keep.set(s.keep, i * T));
    return { frames, keep, items: ssl.map((s) => ({ fileName: s.fileName })) };
  }
  const weak = samples as WeakSample[];
  const hw = weak[0].traceMask.length;
  const trace_mask = new Float32Array(n * hw);
  weak.forEach((s, i) => trace_mask.set(s.traceMask, i * hw));
  const trace_index = BigInt64Array.from(weak.map((s) => BigInt(s.relIndex)));
  return {
    frames,
    trace_mask,
    trace_index,
    items: weak.map((s) => ({ fileName: s.fileName, which: s.which, traceFrame: s.traceFrame })),
  };
}
