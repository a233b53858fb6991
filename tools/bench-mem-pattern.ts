/**
 * ONNX Runtime's memory pattern on an inference session (docs/performance.md#memory-pattern): the
 * full 3d_unet (T=32, 112x112) segments a row of videos of EchoNet-like lengths the way a
 * segment-batch worker does (upstream's windows, groups of 4, so the last group of a video is a
 * smaller batch), with the memory pattern on (ONNX Runtime's default) and off (what
 * `loadSegmentationModel` uses). Memory: one child process per setting, its peak resident memory
 * (VmHWM) after each video. Speed: both sessions in this process, videos interleaved, median
 * seconds per video, and the off/on ratios of that median and of the total, from the same run.
 * Run: `node dist/tools/bench.js memPattern`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArtifactSet } from '../src/artifacts/index.js';
import { videoWindows } from '../src/infer/windows.js';
import { createSession, tensor } from '../src/onnx/runtime.js';
import { median, peakResidentKiB, round3, syntheticClip } from './bench-common.js';

const T = 32;
const SIZE = 112;
const BATCH = 4;
/** Frame counts of the videos in the row (EchoNet-Dynamic's lie between about 30 and 1,000, most 150-200). */
const VIDEO_FRAMES = [170, 128, 201, 97, 150, 185, 60, 170];

/** The batch sizes one video's windows are run in: groups of BATCH, the last one smaller. */
function groupsOf(frames: number): number[] {
  const n = videoWindows(frames, T, 1, 'upstream').length;
  return Array.from({ length: Math.ceil(n / BATCH) }, (_, k) => Math.min(BATCH, n - k * BATCH));
}

/** A session's forward over `n` copies of the synthetic clip (each batch size's input made once). */
async function openRunner(model: string, memPattern: boolean, threads: number) {
  const session = await createSession(model, { threads, memPattern });
  const clip = syntheticClip(T, SIZE);
  const inputs = new Map<number, ReturnType<typeof tensor>>();
  const input = (n: number) => {
    if (!inputs.has(n)) {
      const x = new Uint8Array(n * clip.length);
      for (let i = 0; i < n; i++) x.set(clip, i * clip.length);
      inputs.set(n, tensor('uint8', x, [n, T, SIZE, SIZE, 3]));
    }
    return inputs.get(n)!;
  };
  const run = (n: number) => session.run({ frames: input(n) });
  return { run, release: () => session.release() };
}

/** The row of videos in a child process of its own; its peak resident MB after each video. */
function peakMemoryChild(model: string, memPattern: boolean, threads: number): number[] {
  const script =
    `import { peakMemoryRow } from ${JSON.stringify(import.meta.url)};` +
    `console.log(JSON.stringify(await peakMemoryRow(${JSON.stringify(model)}, ${memPattern}, ${threads})));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`memory child exited with ${child.status}`);
  return JSON.parse(child.stdout) as number[];
}

/** The child's work: the row of videos through one session, peak memory after each. */
export async function peakMemoryRow(model: string, memPattern: boolean, threads: number): Promise<number[]> {
  const { run, release } = await openRunner(model, memPattern, threads);
  const peaks = [];
  for (const frames of VIDEO_FRAMES) {
    for (const n of groupsOf(frames)) await run(n);
    peaks.push(Math.round(peakResidentKiB() / 1024));
  }
  await release();
  return peaks;
}

export async function benchMemPattern(rounds = 3): Promise<object> {
  const work = mkdtempSync(join(tmpdir(), 'unilvseg-bench-mem-pattern-'));
  const threads = cpus().length;
  try {
    const set = await buildArtifactSet({ encoder: '3d_unet', frames: T, period: 1, out: work });
    const model = join(set.dir, 'model.onnx');
    const memory = {
      on: peakMemoryChild(model, true, threads),
      off: peakMemoryChild(model, false, threads),
    };
    console.info(`memPattern, peak MB after each video: ${JSON.stringify(memory)}`);
    const runners = {
      on: await openRunner(model, true, threads),
      off: await openRunner(model, false, threads),
    };
    const seconds = { on: [] as number[], off: [] as number[] };
    for (let r = 0; r < rounds; r++)
      for (const frames of VIDEO_FRAMES)
        for (const k of r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
          const t0 = performance.now();
          for (const n of groupsOf(frames)) await runners[k].run(n);
          // the first round warms both sessions up for every batch size
          if (r > 0 || rounds === 1) seconds[k].push((performance.now() - t0) / 1000);
        }
    await Promise.all(Object.values(runners).map((x) => x.release()));
    const on = median(seconds.on);
    const off = median(seconds.off);
    const total = (k: 'on' | 'off') => seconds[k].reduce((a, b) => a + b, 0);
    return {
      model: `3d_unet, T=${T}, ${SIZE}x${SIZE}, batches of ${BATCH} windows`,
      threads,
      videoFrames: VIDEO_FRAMES,
      batchSizes: VIDEO_FRAMES.map(groupsOf),
      peakResidentMb: { memPatternOn: memory.on, memPatternOff: memory.off },
      peakOffOverOn: round3(memory.off.at(-1)! / memory.on.at(-1)!),
      secondsPerVideo: { memPatternOn: round3(on), memPatternOff: round3(off) },
      secondsOffOverOn: round3(off / on),
      totalSecondsOffOverOn: round3(total('off') / total('on')),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
