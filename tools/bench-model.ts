/**
 * Model benchmarks (`npm run bench` section `model`, or `node dist/tools/bench-model.js`):
 * seconds per clip of model.onnx for 3d_unet, 3d_unet_small (1x32x112x112) and si_resnet34_unet
 * (T=16, 512x512 super-image), 2 intra-op threads; and the full 3d_unet weak-supervision train
 * step (train_weak + optimizer_weak, batch 1, median of 3 after 2 warm-ups) in a child process,
 * whose peak RSS (VmHWM) is the memory the step needs. Targets: 3d_unet <= 0.45 s per clip, train step <= 2.0
 * s and <= 5 GB; `3d_unet_taps_cut` times model.onnx's portable head-conv form against the CPU-only
 * one it replaced. `ceiling` puts the machine's float32 GEMM rate, measured in the same run, next to them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArtifactSet, inferenceModelBytes } from '../src/artifacts/build.js';
import { readCheckpoint } from '../src/artifacts/checkpoint.js';
import { loadArtifactSet } from '../src/artifacts/load.js';
import { numel } from '../src/onnx/ir.js';
import { createSession, tensor, type Feeds } from '../src/onnx/runtime.js';
import {
  median,
  nodeGemmGflops,
  peakResidentKiB,
  syntheticClip as clip,
  UNET3D_FORWARD_GFLOP,
} from './bench-common.js';

const THREADS = 2;
const RUNS = 3;

export async function inference(setDir: string) {
  const set = loadArtifactSet(setDir);
  const { frames: T, size } = set.manifest.model;
  const session = await createSession(set.files.model, { threads: THREADS });
  const feeds = { frames: tensor('uint8', clip(T, size), [1, T, size, size, 3]) };
  await session.run(feeds); // warm-up
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await session.run(feeds);
    times.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const s = median(times);
  // CPU seconds (all threads) tell a loaded machine's numbers apart from a slow graph.
  return {
    secondsPerClip: Number(s.toFixed(3)),
    framesPerSecond: Number((T / s).toFixed(1)),
    cpuSecondsPerClip: Number(median(cpu).toFixed(3)),
    clip: `1x${T}x${size}x${size}`,
    threads: THREADS,
  };
}

/** Child-process body: two warm-up and three timed weak train steps; prints JSON with VmHWM. */
async function trainStep(setDir: string) {
  const set = loadArtifactSet(setDir);
  const m = set.manifest;
  const { frames: T, size } = m.model;
  const state = readCheckpoint(set.files.checkpoint, m);
  const [train, optimizer] = await Promise.all([
    createSession(set.files.train_weak, { threads: THREADS }),
    createSession(set.files.optimizer_weak, { threads: THREADS }),
  ]);
  const zero = tensor('float32', Float32Array.of(0), []);
  const batch: Feeds = {
    frames: tensor('uint8', clip(T, size), [1, T, size, size, 3]),
    trace_mask: tensor(
      'float32',
      Float32Array.from({ length: size * size }, (_, i) =>
        Math.abs((i % size) - size / 2) < size / 4 ? 1 : 0,
      ),
      [1, size, size],
    ),
    trace_index: tensor('int64', BigInt64Array.of(BigInt(T >> 1)), [1]),
    others_intersection: zero,
    others_cardinality: zero,
    others_positives: zero,
  };
  const trainable = m.params.filter((p) => p.kind === 'param');
  const optState = new Map<string, Float32Array>(
    trainable.flatMap((p) =>
      m.weak.stateSuffixes.map((s) => [`${p.name}.${s}`, new Float32Array(numel(p.shape))] as const),
    ),
  );
  const step = async (k: number) => {
    const params: Feeds = Object.fromEntries(
      m.params
        .filter((p) => train.inputNames.includes(p.name))
        .map((p) => [p.name, tensor('float32', state.params.get(p.name)!, p.shape)]),
    );
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await train.run({ ...params, ...batch });
    const t1 = performance.now();
    const feeds: Feeds = {
      lr: tensor('float32', Float32Array.of(3e-4), []),
      step: tensor('float32', Float32Array.of(k), []),
    };
    for (const p of trainable) {
      feeds[p.name] = params[p.name];
      feeds[`${p.name}.grad`] = out[`${p.name}.grad`];
      for (const s of m.weak.stateSuffixes)
        feeds[`${p.name}.${s}`] = tensor('float32', optState.get(`${p.name}.${s}`)!, p.shape);
    }
    const next = await optimizer.run(feeds);
    const t2 = performance.now();
    for (const p of trainable) {
      state.params.set(p.name, next[`${p.name}.new`].data as Float32Array);
      for (const s of m.weak.stateSuffixes)
        optState.set(`${p.name}.${s}`, next[`${p.name}.${s}.new`].data as Float32Array);
    }
    const c = process.cpuUsage(c0);
    return {
      trainGraph: (t1 - t0) / 1000,
      optimizer: (t2 - t1) / 1000,
      cpu: (c.user + c.system) / 1e6,
      loss: Number(out.loss.data[0]),
    };
  };
  // The first two steps still grow ORT's memory arenas and fault in the optimizer state (they
  // take ~1.3x and ~3x longer): time the steady state, the median of three after them.
  await step(1);
  await step(2);
  const steps = [await step(3), await step(4), await step(5)];
  const timed = [...steps].sort((a, b) => a.trainGraph + a.optimizer - (b.trainGraph + b.optimizer))[1];
  const peakKiB = peakResidentKiB();
  return {
    seconds: Number((timed.trainGraph + timed.optimizer).toFixed(3)),
    trainGraphSeconds: Number(timed.trainGraph.toFixed(3)),
    optimizerSeconds: Number(timed.optimizer.toFixed(3)),
    cpuSeconds: Number(timed.cpu.toFixed(3)),
    peakRssGB: Number((peakKiB / 2 ** 20).toFixed(2)),
    loss: timed.loss,
    batch: 1,
    threads: THREADS,
  };
}

/**
 * The full 3d_unet's model.onnx with its 32 -> 1 head conv's taps cut the two ways
 * (src/onnx/forms.ts forwardTapsCut): 'slice-add', the default that the WebGPU provider also runs,
 * against 'split-sum', the CPU-only form model.onnx had before; same weights, alternating runs so
 * a change of load hits both.
 */
async function tapsCuts(setDir: string, rounds = 2 * RUNS) {
  const set = loadArtifactSet(setDir);
  const { frames: T, size, encoder } = set.manifest.model;
  const { params } = readCheckpoint(set.files.checkpoint, set.manifest);
  const feeds = { frames: tensor('uint8', clip(T, size), [1, T, size, size, 3]) };
  const cuts = ['slice-add', 'split-sum'] as const;
  const sessions = await Promise.all(
    cuts.map((cut) =>
      createSession(
        inferenceModelBytes(
          { encoder, frames: T, period: 1, size, formOverrides: { forwardTapsCut: cut } },
          params,
        ),
        { threads: THREADS },
      ),
    ),
  );
  const times: number[][] = cuts.map(() => []);
  const cpu: number[][] = cuts.map(() => []);
  for (const s of sessions) await s.run(feeds); // warm-up
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < cuts.length; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await sessions[i].run(feeds);
      times[i].push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu[i].push((c.user + c.system) / 1e6);
    }
  await Promise.all(sessions.map((s) => s.release()));
  const [portable, cpuOnly] = times.map((t) => Number(median(t).toFixed(3)));
  // CPU seconds (both threads) are less disturbed by other jobs than wall-clock time.
  const [portableCpu, cpuOnlyCpu] = cpu.map((t) => Number(median(t).toFixed(3)));
  return {
    sliceAddSeconds: portable,
    splitSumSeconds: cpuOnly,
    ratio: Number((portable / cpuOnly).toFixed(3)),
    sliceAddCpuSeconds: portableCpu,
    splitSumCpuSeconds: cpuOnlyCpu,
    cpuRatio: Number((portableCpu / cpuOnlyCpu).toFixed(3)),
    rounds,
  };
}

/**
 * This machine's compute ceiling in the same run: a float32 2048^3 MatMul on the same 2 threads
 * (MLAS's best case). Dividing the model's FLOPs by it gives the least time any graph of these
 * ops could take: the forward once for inference, about three times for a train step (forward,
 * input gradient, weight gradient).
 */
async function ceiling() {
  const gflops = await nodeGemmGflops(THREADS, RUNS + 2);
  return {
    matmulGflops: Number(gflops.toFixed(1)),
    '3d_unet_inference_floorSeconds': Number((UNET3D_FORWARD_GFLOP / gflops).toFixed(3)),
    '3d_unet_train_step_floorSeconds': Number(((3 * UNET3D_FORWARD_GFLOP) / gflops).toFixed(3)),
  };
}

export async function benchModel(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-model-'));
  try {
    const sets: Record<string, string> = {};
    for (const [encoder, frames] of [
      ['3d_unet', 32],
      ['3d_unet_small', 32],
      ['si_resnet34_unet', 16],
    ] as const) {
      console.error(`bench-model: building ${encoder}`);
      sets[encoder] = (await buildArtifactSet({ encoder, frames, period: 1, out: join(dir, encoder) })).dir;
    }
    const result: Record<string, unknown> = {};
    console.error('bench-model: compute ceiling (2048^3 MatMul)');
    result.ceiling = await ceiling();
    for (const [encoder, setDir] of Object.entries(sets)) {
      console.error(`bench-model: inference ${encoder}`);
      result[`${encoder}_inference`] = await inference(setDir);
    }
    console.error("bench-model: 3d_unet model.onnx, the head conv's two cuts of its taps");
    result['3d_unet_taps_cut'] = await tapsCuts(sets['3d_unet']);
    console.error('bench-model: 3d_unet train step (child process)');
    const child = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--train-step', sets['3d_unet']],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(`train-step child failed: ${child.stderr}`);
    result['3d_unet_train_step'] = JSON.parse(child.stdout.trim().split('\n').pop()!);
    result.loadAverage = loadavg().map((l) => Number(l.toFixed(2)));
    result.targets = {
      '3d_unet_inference_secondsPerClip': 0.45,
      '3d_unet_train_step_seconds': 2.0,
      '3d_unet_train_step_peakRssGB': 5,
    };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Only the taps-cut comparison (`node dist/tools/bench-model.js --taps-cut`): it builds the 3d_unet alone. */
async function tapsCutOnly() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-model-'));
  try {
    const set = await buildArtifactSet({ encoder: '3d_unet', frames: 32, period: 1, out: join(dir, 'set') });
    const r = await tapsCuts(set.dir, 4 * RUNS);
    return { '3d_unet_taps_cut': r, loadAverage: loadavg().map((l) => Number(l.toFixed(2))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  const run =
    arg === '--train-step' ? trainStep(process.argv[3]) : arg === '--taps-cut' ? tapsCutOnly() : benchModel();
  run
    .then((r) => console.log(JSON.stringify(r)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
