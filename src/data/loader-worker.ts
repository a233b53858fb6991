/**
 * Worker thread of BatchLoader: prepares samples (cache read or decode, clip, augmentation) and
 * sends them back with their buffers transferred, not copied. Importing this module from the
 * main thread only brings the message types and the error classification.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FrameCache } from './cache.js';
import { badItem } from './bad-item.js';
import {
  prepareSample,
  type SampleConfig,
  type SampleRef,
  type SslSample,
  type SslVideo,
  type WeakSample,
} from './samples.js';

export const WORKER_KIND = 'unilvseg-loader';

export interface WorkerInit {
  kind: typeof WORKER_KIND;
  videos: readonly SslVideo[];
  cacheDir: string;
  cfg: SampleConfig;
}

export interface TaskMsg {
  id: number;
  epoch: number;
  index: number;
  ref: SampleRef;
}

/** A sample, or why not: `bad` for a bad input (report and skip), `fatal` for anything else. */
export type Outcome =
  | { ok: true; sample: WeakSample | SslSample }
  | { ok: false; bad: { file: string; problem: string } }
  | { ok: false; fatal: string };

export type ResultMsg = Outcome & { id: number };

/** Bad inputs are errors that name a file (missing, corrupt, truncated, wrong size, bad trace). */
export function classify(e: unknown): Outcome {
  const bad = badItem(e);
  if (bad) return { ok: false, bad };
  return { ok: false, fatal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

export async function runTask(
  videos: readonly SslVideo[],
  cache: FrameCache,
  cfg: SampleConfig,
  t: TaskMsg,
): Promise<Outcome> {
  try {
    return { ok: true, sample: await prepareSample(videos, cache, cfg, t.epoch, t.index, t.ref) };
  } catch (e) {
    return classify(e);
  }
}

export function transferables(o: Outcome): ArrayBuffer[] {
  if (!o.ok) return [];
  const s = o.sample;
  const second = 'keep' in s ? s.keep : s.traceMask;
  return [s.frames.buffer as ArrayBuffer, second.buffer as ArrayBuffer];
}

if (!isMainThread && parentPort && (workerData as WorkerInit | undefined)?.kind === WORKER_KIND) {
  const init = workerData as WorkerInit;
  const cache = new FrameCache(init.cacheDir);
  const port = parentPort;
  port.on('message', (t: TaskMsg) => {
    void runTask(init.videos, cache, init.cfg, t).then((o) =>
      port.postMessage({ ...o, id: t.id }, transferables(o)),
    );
  });
}
