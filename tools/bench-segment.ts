/**
 * segment-video throughput: frames per second of the whole command (decode + inference + writing
 * mask.avi, overlay.mp4, CSV, SVG, JSON) on a synthetic echo video generated here, for the small
 * 3D U-Net at width 0.25 and the full 3d_unet (T = 32, p = 1, untrained weights: the work is the
 * same), with upstream's windows and with --overlap. Run: `node dist/tools/bench-segment.js
 * [--frames N] [--ep cpu|cuda|auto] [--threads N] [--small-only]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildArtifactSet } from '../src/artifacts/index.js';
import { generateDataset } from '../src/data/synth/dataset.js';
import { loadSegmentationModel } from '../src/infer/model.js';
import { segmentVideo } from '../src/infer/segment.js';
import type { ExecutionProvider } from '../src/onnx/runtime.js';
import { round3 } from './bench-common.js';

export interface BenchSegmentOptions {
  /** Frames of the generated video (default 150, 3 s at ~50 fps). */
  videoFrames?: number;
  ep?: ExecutionProvider;
  threads?: number;
  /** Skip the full-width 3d_unet. */
  smallOnly?: boolean;
  batchSize?: number;
}

const MODELS = [
  { encoder: '3d_unet_small', widthMult: 0.25 },
  { encoder: '3d_unet', widthMult: 1 },
];

export async function benchSegment(opts: BenchSegmentOptions = {}): Promise<object> {
  const work = mkdtempSync(join(tmpdir(), 'unilvseg-bench-segment-'));
  try {
    const frames = opts.videoFrames ?? 150;
    const [video] = await generateDataset({
      out: join(work, 'data'),
      videos: 1,
      seed: 11,
      framesMin: frames,
      framesMax: frames,
      fps: 50,
      progress: false,
    });
    const videoPath = join(work, 'data', 'Videos', `${video.name}.avi`);
    const results = [];
    for (const m of opts.smallOnly ? MODELS.slice(0, 1) : MODELS) {
      const t0 = Date.now();
      const set = await buildArtifactSet({
        encoder: m.encoder,
        frames: 32,
        period: 1,
        widthMult: m.widthMult,
        out: join(work, `${m.encoder}-${m.widthMult}`),
      });
      const buildSeconds = (Date.now() - t0) / 1000;
      const model = await loadSegmentationModel({ model: set.dir, ep: opts.ep, threads: opts.threads });
      try {
        // One untimed pass first: ONNX Runtime allocates and tunes on the first run.
        await segmentVideo(
          { videoPath, outDir: join(work, 'warmup'), model, batchSize: opts.batchSize },
          () => undefined,
        );
        const runs = [];
        for (const overlap of [false, true]) {
          const s = await segmentVideo(
            { videoPath, outDir: join(work, `out-${overlap}`), model, overlap, batchSize: opts.batchSize },
            () => undefined,
          );
          runs.push({
            windows: s.windows.mode,
            windowCount: s.windows.count,
            framesPerSecond: round3(s.framesPerSecond),
            inferenceFramesPerSecond: round3(s.frames / s.seconds.inference),
            seconds: {
              decode: round3(s.seconds.decode),
              inference: round3(s.seconds.inference),
              write: round3(s.seconds.write),
              total: round3(s.seconds.total),
            },
          });
        }
        results.push({
          encoder: m.encoder,
          widthMult: m.widthMult,
          frames: 32,
          period: 1,
          params: set.manifest.model.paramCount,
          buildSeconds,
          model: model.describe,
          runs,
        });
      } finally {
        await model.release();
      }
    }
    return {
      benchmark: 'segment-video frames per second (decode + inference + write)',
      video: { frames, size: 112, fps: video.fps, source: 'synthetic A4C echo (MJPEG AVI)' },
      batchSize: opts.batchSize ?? 4,
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        ep: opts.ep ?? 'cpu',
        threads: opts.threads ?? 'all',
      },
      models: results,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  benchSegment({
    videoFrames: num(arg('--frames')),
    ep: arg('--ep') as ExecutionProvider | undefined,
    threads: num(arg('--threads')),
    smallOnly: process.argv.includes('--small-only'),
    batchSize: num(arg('--batch-size')),
  })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    });
}
