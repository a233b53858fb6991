/**
 * The UniFormer-S U-Net against PyTorch (`npm run bench` section `uniformer`, or
 * `node dist/tools/bench-uniformer.js`): in one run on 2 threads, the full-width `uniformer_small`
 * at T = 16 (one 512 x 512 super-image), model.onnx seconds per clip and the weak train step
 * (train_weak + optimizer_weak, batch 1, in a child process as bench-model's) against PyTorch 1.13
 * eager of upstream's module (tools/torch-baseline/time_uniformer.py: same input size, the traced
 * frame's Dice loss, AdamW with AMSGrad). Target: ours / PyTorch <= 1.0 for both. Each graph is
 * then run three times more with ORT's profiler, and the third run's top operators by kernel time are
 * listed (the first two also fault in the arena's memory). Without
 * Debian's python3-torch the PyTorch half is reported as missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArtifactSet } from '../src/artifacts/build.js';
import { loadArtifactSet } from '../src/artifacts/load.js';
import { profileFile, readProfile, summarizeProfile } from '../src/onnx/profile.js';
import { createSession } from '../src/onnx/runtime.js';
import { graphFeeds } from './gpu/feeds.js';
import { inference } from './bench-model.js';

const THREADS = 2;
const FRAMES = 16;
const PYTHON = process.env.UNILVSEG_PYTHON ?? '/usr/bin/python3';
const here = fileURLToPath(new URL('.', import.meta.url));
const BENCH_MODEL = join(here, 'bench-model.js');
const TIME_TORCH = join(here, '../../tools/torch-baseline/time_uniformer.py');

/** A graph's third run with the set's initial weights, profiled: its top operators by kernel time. */
async function topOperators(setDir: string, key: 'model' | 'train_weak', dir: string) {
  const set = loadArtifactSet(setDir);
  const prefix = join(dir, `profile-${key}`);
  const session = await createSession(set.files[key], { threads: THREADS, profilePrefix: prefix });
  const feeds = graphFeeds(set, key, 1);
  for (const k of Object.keys(feeds)) if (!session.inputNames.includes(k)) delete feeds[k];
  // Two warm-ups: the arena grows in both and its memory is faulted in (1.5 GB each at batch 4).
  for (let i = 0; i < 3; i++) await session.run(feeds);
  await session.release(); // flushes the profile
  const runs = readProfile(profileFile(prefix), { lastRun: true });
  const s = summarizeProfile(runs, 'CPUExecutionProvider', { top: 10 });
  const total = Object.values(s.msByProvider).reduce((a, v) => a + v, 0);
  return { totalKernelMs: Math.round(total), topOps: s.topOps };
}

function torchBaseline(): Record<string, unknown> {
  if (!existsSync(PYTHON)) return { missing: `${PYTHON} not found (Debian's python3-torch)` };
  const run = spawnSync(PYTHON, [TIME_TORCH, '3', String(THREADS)], { encoding: 'utf8' });
  if (run.status !== 0)
    return { missing: `time_uniformer.py failed: ${run.stderr.trim().split('\n').pop()}` };
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

export async function benchUniformer(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-uniformer-'));
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  try {
    console.error('bench-uniformer: building uniformer_small (T=16, full width)');
    const set = await buildArtifactSet({
      encoder: 'uniformer_small',
      frames: FRAMES,
      period: 1,
      out: join(dir, 'set'),
    });
    console.error('bench-uniformer: model.onnx');
    const ours = await inference(set.dir);
    console.error('bench-uniformer: weak train step (child process)');
    const child = spawnSync(process.execPath, [BENCH_MODEL, '--train-step', set.dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`train-step child failed: ${child.stderr}`);
    const step = JSON.parse(child.stdout.trim().split('\n').pop()!) as { seconds: number };
    console.error('bench-uniformer: PyTorch eager (time_uniformer.py)');
    const torch = torchBaseline();
    console.error('bench-uniformer: profiles');
    const profile = {
      model: await topOperators(set.dir, 'model', dir),
      train_weak: await topOperators(set.dir, 'train_weak', dir),
    };
    const ratio = (a: number, b: unknown) => (typeof b === 'number' ? Number((a / b).toFixed(3)) : null);
    return {
      inference: ours,
      trainStep: step,
      torch,
      ratio: {
        inference: ratio(ours.secondsPerClip, torch.inferenceSeconds),
        trainStep: ratio(step.seconds, torch.trainStepSeconds),
      },
      target: { ratio: 1.0 },
      profile,
      // 1-, 5- and 15-minute load averages when the section started and ended (other jobs inflate both sides)
      loadAverage: { start: loadAtStart, end: loadavg().map((l) => Number(l.toFixed(2))) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  benchUniformer()
    .then((r) => console.log(JSON.stringify(r)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
