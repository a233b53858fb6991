/**
 * segment-batch throughput on CPUs: videos per core-hour of the whole command (listing, model
 * load, decode, inference, writing every output) with the full 3d_unet (T = 32, untrained weights:
 * the work is the same), as 1 worker x N threads and N workers x 1 thread, next to PyTorch eager
 * on the same machine, threads and videos (tools/torch-baseline/time_video.py, when Debian's
 * python3-torch is installed), runs interleaved. Also the share of mask pixels on which ours and
 * PyTorch agree. Run: `node dist/tools/bench-batch.js [--videos N] [--frames F] [--threads T]
 * [--rounds R] [--encoder E --width W]` or `node dist/tools/bench.js batch`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { buildArtifactSet } from '../src/artifacts/index.js';
import { generateDataset } from '../src/data/synth/dataset.js';
import { decodeVideo } from '../src/data/video.js';
import type { ShardManifest } from '../src/infer/batch/layout.js';
import { median } from './bench-common.js';

export interface BenchBatchOptions {
  videos?: number;
  frames?: number;
  threads?: number;
  rounds?: number;
  encoder?: string;
  widthMult?: number;
}

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TORCH_DIR = fileURLToPath(new URL('../../tools/torch-baseline/', import.meta.url));

function runOurs(input: string, model: string, out: string, workers: number, threads: number) {
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'segment-batch',
      '--input',
      input,
      '--output',
      out,
      '--model',
      model,
      '--workers',
      String(workers),
    ].concat(['--threads', String(threads)]),
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`segment-batch exited with ${r.status}: ${r.stderr}`);
  const manifest = JSON.parse(
    readFileSync(join(out, 'shards', 'shard-0-of-1.json'), 'utf8'),
  ) as ShardManifest;
  return manifest.result!;
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

function runTorch(set: string, videos: string[], out: string, threads: number) {
  const r = spawnSync(
    '/usr/bin/python3',
    ['time_video.py', set, ffmpegInstaller.path, ffprobeInstaller.path, String(threads), '4', out, ...videos],
    { cwd: TORCH_DIR, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`time_video.py exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { videosPerCoreHour: number; wallSeconds: number; torch: string };
}

/** Share of equal pixels between two folders' <name>/mask.avi. */
async function maskAgreement(a: string, b: string, names: string[]): Promise<number> {
  let same = 0;
  let total = 0;
  for (const n of names) {
    const [x, y] = await Promise.all([
      decodeVideo(join(a, n, 'mask.avi')),
      decodeVideo(join(b, n, 'mask.avi')),
    ]);
    if (x.frames.length !== y.frames.length) throw new Error(`${n}: mask videos differ in size`);
    for (let i = 0; i < x.frames.length; i += 3) if (x.frames[i] === y.frames[i]) same++;
    total += x.frames.length / 3;
  }
  return same / total;
}

export async function benchBatch(opts: BenchBatchOptions = {}): Promise<object> {
  const work = mkdtempSync(join(tmpdir(), 'unilvseg-bench-batch-'));
  try {
    const count = opts.videos ?? 4;
    const frames = opts.frames ?? 150;
    const threads = opts.threads ?? Math.min(2, cpus().length);
    const rounds = opts.rounds ?? 2;
    await generateDataset({
      out: join(work, 'data'),
      videos: count,
      seed: 21,
      framesMin: frames,
      framesMax: frames,
      fps: 50,
      progress: false,
    });
    const input = join(work, 'data', 'Videos');
    const names = readdirSync(input).sort();
    const encoder = opts.encoder ?? '3d_unet';
    const set = await buildArtifactSet({
      encoder,
      frames: 32,
      period: 1,
      widthMult: opts.widthMult ?? 1,
      out: join(work, 'model'),
    });
    const variants = [{ workers: 1, threads }, ...(threads > 1 ? [{ workers: threads, threads: 1 }] : [])];
    const torch = torchAvailable();
    const ours: Record<string, number[]> = {};
    const torchRates: number[] = [];
    let torchVersion = '';
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const key = `${v.workers}x${v.threads}`;
        const res = runOurs(input, set.dir, join(work, `ours-${key}-${r}`), v.workers, v.threads);
        (ours[key] ??= []).push(res.videosPerCoreHour ?? 0);
        process.stderr.write(
          `bench batch: ours ${key} round ${r}: ${res.videosPerCoreHour?.toFixed(1)} videos/core-h\n`,
        );
      }
      if (torch) {
        const t = runTorch(
          set.dir,
          names.map((n) => join(input, n)),
          join(work, `torch-${r}`),
          threads,
        );
        torchRates.push(t.videosPerCoreHour);
        torchVersion = t.torch;
        process.stderr.write(
          `bench batch: PyTorch round ${r}: ${t.videosPerCoreHour.toFixed(1)} videos/core-h\n`,
        );
      }
    }
    const stems = names.map((n) => n.replace(/\.avi$/, ''));
    const best = `1x${threads}`;
    const oursMedian = median(ours[best]);
    return {
      benchmark: 'segment-batch videos per core-hour (list, load, decode, inference, all outputs written)',
      videos: { count, frames, size: 112, source: 'synthetic A4C echo (MJPEG AVI)' },
      model: { encoder, widthMult: opts.widthMult ?? 1, T: 32, params: set.manifest.model.paramCount },
      cores: threads,
      rounds,
      ours: Object.fromEntries(
        Object.entries(ours).map(([k, xs]) => [
          k,
          { runs: xs.map((x) => +x.toFixed(2)), median: +median(xs).toFixed(2) },
        ]),
      ),
      pytorch: torch
        ? {
            version: torchVersion,
            threads,
            note: 'decode, windows, forward, FFV1 mask.avi and frames.csv (no plots, no JSON)',
            runs: torchRates,
            median: median(torchRates),
            oursOverPytorch: +(oursMedian / median(torchRates)).toFixed(3),
            maskAgreement: await maskAgreement(
              join(work, `ours-${best}-0`, 'videos'),
              join(work, 'torch-0'),
              stems,
            ),
          }
        : 'skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)',
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const i = process.argv.indexOf('--encoder');
  benchBatch({
    videos: arg('--videos'),
    frames: arg('--frames'),
    threads: arg('--threads'),
    rounds: arg('--rounds'),
    encoder: i >= 0 ? process.argv[i + 1] : undefined,
    widthMult: arg('--width'),
  })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    });
}
