/**
 * Data-pipeline throughput: clips per second for decode-from-cache + clip + augmentation +
 * batching of 32-frame weak-supervision clips (batch 16), with 1 and 2 loader workers, on
 * videos generated here (so it runs anywhere). Run: `node dist/tools/bench-data.js [--videos N]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/util/rng.js';
import { FrameCache } from '../src/data/cache.js';
import type { EchoVideo } from '../src/data/echonet.js';
import { BatchLoader } from '../src/data/loader.js';
import { encodeVideo } from '../src/data/video.js';

export interface BenchDataOptions {
  videos?: number;
  framesPerVideo?: number;
  frames?: number;
  batchSize?: number;
  workers?: number[];
  epochs?: number;
}

const S = 112;

/** Gray speckle with a pulsing bright ring, EchoNet-like in content and compressibility. */
function synthVideo(count: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(count * S * S * 3);
  for (let f = 0, o = 0; f < count; f++) {
    const r = 20 + 6 * Math.sin(f / 4);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++, o += 3) {
        const d = Math.hypot(x - 56, y - 50);
        const v = 15 + 30 * rng.uniform() + (Math.abs(d - r) < 4 ? 150 : 0);
        out[o] = out[o + 1] = out[o + 2] = v;
      }
    }
  }
  return out;
}

/** A 21-row EchoNet-style trace of an ellipse (long axis, then 20 chords). */
function ellipseTrace(ry: number, rx: number): number[][] {
  const rows = [[56, 50 - ry, 56, 50 + ry]];
  for (let k = 1; k <= 20; k++) {
    const y = 50 - ry + (2 * ry * k) / 21;
    const h = rx * Math.sqrt(Math.max(0, 1 - ((y - 50) / ry) ** 2));
    rows.push([56 - h, y, 56 + h, y]);
  }
  return rows;
}

export async function benchData(opts: BenchDataOptions = {}): Promise<object> {
  const n = opts.videos ?? 16;
  const F = opts.framesPerVideo ?? 120;
  const T = opts.frames ?? 32;
  const batchSize = opts.batchSize ?? 16;
  const epochs = opts.epochs ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  try {
    const videos: EchoVideo[] = [];
    for (let i = 0; i < n; i++) {
      const fileName = `bench${i}.avi`;
      const path = join(dir, 'Videos', fileName);
      await encodeVideo(path, synthVideo(F, i + 1), { width: S, height: S, fps: 50, codec: 'mjpeg' });
      const row = {
        fileName: `bench${i}`,
        ef: 60,
        esv: 20,
        edv: 50,
        frameHeight: S,
        frameWidth: S,
        fps: 50,
        numberOfFrames: F,
        split: 'TRAIN',
      };
      videos.push({
        fileName,
        path,
        row,
        esFrame: 10 + (i % 50),
        edFrame: F - 10 - (i % 40),
        esRows: ellipseTrace(18, 12),
        edRows: ellipseTrace(26, 18),
      });
    }
    const cacheDir = join(dir, '.unilvseg-cache');
    const cache = new FrameCache(cacheDir);
    let t0 = performance.now();
    for (const v of videos) await cache.getFrames(v); // first pass: ffmpeg decode + cache write
    const decodeMs = (performance.now() - t0) / n;
    t0 = performance.now();
    for (const v of videos) await cache.getFrames(v);
    const cachedMs = (performance.now() - t0) / n;

    const results = [];
    for (const numWorkers of opts.workers ?? [1, 2]) {
      const loader = new BatchLoader({
        videos,
        cacheDir,
        phase: 'weak',
        frames: T,
        period: 1,
        batchSize,
        train: true,
        shuffle: true,
        numWorkers,
        prefetch: 2,
        seed: 1,
      });
      // One warm-up batch (worker start, JIT), then timed epochs.
      for await (const _ of loader.epoch(99)) break;
      let clips = 0;
      t0 = performance.now();
      // CPU time of the whole process, worker threads included: on a busy machine wall-clock
      // rates understate the pipeline, CPU per clip does not.
      const cpu0 = process.cpuUsage();
      for (let e = 0; e < epochs; e++) for await (const b of loader.epoch(e)) clips += b.items.length;
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      await loader.close();
      const cpuMsPerClip = (cpu.user + cpu.system) / 1000 / clips;
      results.push({
        numWorkers,
        clips,
        seconds: +seconds.toFixed(3),
        clipsPerSecond: +(clips / seconds).toFixed(1),
        cpuMsPerClip: +cpuMsPerClip.toFixed(1),
      });
    }
    return {
      what: `weak-supervision clips T=${T}, batch ${batchSize}, training augmentation, frames from the on-disk cache`,
      videos: n,
      framesPerVideo: F,
      ffmpegDecodeMsPerVideo: +decodeMs.toFixed(1),
      cacheReadMsPerVideo: +cachedMs.toFixed(2),
      results,
      loadAverage: os.loadavg().map((l) => +l.toFixed(2)),
      cpus: os.cpus().length,
      target: '>= 5 clips/s (10x the ~2 s full 3d_unet train step per clip)',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--videos');
  const videos = at > 0 ? Number(process.argv[at + 1]) : undefined;
  console.log(JSON.stringify(await benchData({ videos }), null, 2));
}
