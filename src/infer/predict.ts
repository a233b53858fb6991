// Test-set predictions for `unilvseg evaluate` (upstream seg_3d_test_get_predictions.py,
// docs/upstream.md#test-set-predictions):
// one centred clip per traced frame, the traced frame's logits thresholded at sigmoid >= 0.5,
// written as a 0/255 PNG under upstream's (tag-swapped) file name.
import { join, resolve } from 'node:path';
import { openEchoNet } from '../data/echonet.js';
import { BatchLoader, type WeakBatch } from '../data/loader.js';
import { DEFAULT_SEED, FRAME_SIZE } from '../defaults.js';
import { FailureLog, type Failure } from '../util/failures.js';
import { JsonlLog } from '../util/jsonl.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import type { SegmentationModel } from './model.js';
import { maskPngName, videoStem, writeMaskPng } from './png-masks.js';

export interface PredictOptions {
  dataPath: string;
  saveDir: string;
  model: SegmentationModel;
  split?: string;
  batchSize?: number;
  numWorkers?: number;
  /** Ablation of upstream: the clip's frames are permuted (seeded) before the forward pass. */
  shuffleTemporalOrder?: boolean;
  seed?: number;
  /** Decoded-frame cache folder (default: the loader's). */
  cacheDir?: string;
  /** Show a progress bar / lines on stderr (default true). */
  progress?: boolean;
  /** Stop at the first bad video or CSV row (upstream's behaviour) instead of reporting and skipping it. */
  strict?: boolean;
}

export interface PredictSummary {
  saveDir: string;
  split: string;
  model: string;
  videos: number;
  written: number;
  skipped: Failure[];
  seconds: number;
  log: string;
  failures: string;
}

export const PREDICTIONS_LOG = 'predictions.jsonl';
export const FAILURES_CSV = 'failures.csv';

/**
 * Permutes the T frames of each clip in place (a seeded Fisher-Yates per sample, like upstream's
 * random.shuffle) and returns the traced frame's new clip positions.
 */
export function shuffleClipFrames(
  batch: Pick<WeakBatch, 'frames' | 'trace_index'>,
  T: number,
  rng: (item: number) => Rng,
  firstItem = 0,
): number[] {
  const n = batch.trace_index.length;
  const frameBytes = batch.frames.length / (n * T);
  return Array.from({ length: n }, (_, i) => {
    const order = rng(firstItem + i).shuffle(Array.from({ length: T }, (_, k) => k));
    const clip = batch.frames.subarray(i * T * frameBytes, (i + 1) * T * frameBytes);
    const original = clip.slice();
    // New position j shows original frame order[j].
    order.forEach((from, j) =>
      clip.set(original.subarray(from * frameBytes, (from + 1) * frameBytes), j * frameBytes),
    );
    return order.indexOf(Number(batch.trace_index[i]));
  });
}

/** Threshold one frame's logits (logit >= 0, i.e. sigmoid >= 0.5) into a 0/1 mask. */
function thresholdLogits(logits: Float32Array): Uint8Array {
  return Uint8Array.from(logits, (v) => (v >= 0 ? 1 : 0));
}

export async function runPredict(o: PredictOptions): Promise<PredictSummary> {
  const started = Date.now();
  const { model } = o;
  const split = o.split ?? 'test';
  const T = model.frames;
  if (model.size !== FRAME_SIZE)
    throw new Error(
      `predict reads EchoNet's ${FRAME_SIZE}x${FRAME_SIZE} videos; this model takes ${model.size}x${model.size} frames`,
    );
  const saveDir = resolve(o.saveDir);
  const log = new JsonlLog(join(saveDir, PREDICTIONS_LOG));
  const failures = new FailureLog(join(saveDir, FAILURES_CSV), (f) => {
    log.write({ event: 'skipped', ...f });
    process.stderr.write(`skipping ${f.file}: ${f.problem}\n`);
  });
  const onBadItem = (file: string, problem: string) => failures.add(file, problem);
  const videos = openEchoNet(o.dataPath, split, { onBadItem, strict: o.strict });
  if (videos.length === 0) throw new Error(`no usable videos in split ${split} of ${o.dataPath}`);
  log.write({
    event: 'start',
    dataPath: resolve(o.dataPath),
    split,
    model: model.describe,
    videos: videos.length,
    shuffleTemporalOrder: !!o.shuffleTemporalOrder,
    seed: o.seed ?? DEFAULT_SEED,
  });
  const loader = new BatchLoader({
    videos,
    phase: 'weak',
    frames: T,
    period: model.period,
    batchSize: o.batchSize ?? 16,
    train: false,
    numWorkers: o.numWorkers ?? 0,
    seed: o.seed ?? DEFAULT_SEED,
    onBadItem,
    strict: o.strict,
    cacheDir: o.cacheDir,
  });
  const progress = o.progress === false ? undefined : new Progress('predict', 2 * videos.length);
  const plane = model.size * model.size;
  const shuffleRng = (item: number) => Rng.derive(o.seed ?? DEFAULT_SEED, item);
  let written = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      const n = batch.items.length;
      const positions = o.shuffleTemporalOrder
        ? shuffleClipFrames(batch, T, shuffleRng, written)
        : Array.from(batch.trace_index, Number);
      const logits = await model.run(batch.frames, n);
      batch.items.forEach((item, i) => {
        const at = (i * T + positions[i]) * plane;
        const mask = thresholdLogits(logits.subarray(at, at + plane));
        const png = maskPngName(videoStem(item.fileName), item.traceFrame, item.which);
        writeMaskPng(join(saveDir, png), mask, model.size, model.size);
        log.write({
          event: 'mask',
          fileName: item.fileName,
          which: item.which,
          frame: item.traceFrame,
          clipPosition: positions[i],
          png,
          areaPx: mask.reduce((a, b) => a + b, 0),
        });
      });
      written += n;
      progress?.tick(n, batch.items[n - 1].fileName);
    }
  } finally {
    progress?.stop();
    await loader.close();
  }
  const summary: PredictSummary = {
    saveDir,
    split,
    model: model.describe,
    videos: videos.length - new Set(loader.badFiles()).size,
    written,
    skipped: failures.items,
    seconds: (Date.now() - started) / 1000,
    log: log.path,
    failures: failures.csvPath,
  };
  failures.write();
  log.write({ event: 'done', ...summary, log: undefined, failures: undefined });
  return summary;
}
