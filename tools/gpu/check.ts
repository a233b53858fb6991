/**
 * The GPU check and bench, in one run (docs/gpu.md): on the machine's WebGPU adapter,
 *  1. placement: every compute node of the model, train, eval and optimizer graphs runs on
 *     WebGpuExecutionProvider (ORT profile; tiny index arithmetic may stay on the CPU);
 *  2. numerics: a weak and an SSL train step equal the CPU provider's (loss, gradients);
 *  3. bench: 3d_unet inference at batch 1 and 16, its weak and SSL train steps at batch 16 with
 *     the weights resident on the GPU (and the bytes each step moves), si_resnet34_unet's weak
 *     step at batch 8, each next to the CPU provider where that is affordable, plus the ORT
 *     profile's top ops of the 3d_unet train graph;
 *  4. training: `ort-train --ep webgpu` with the README's CPU recipe on a synthetic set (wall time,
 *     test DSC), and segment-video frames per second on WebGPU next to the CPU.
 * Sections run in that order under one time budget; each result is written to <out>/gpu-check.json
 * as soon as it exists, so a run cut short still reports what it measured.
 * Usage: node dist/tools/gpu/check.js --out DIR [--quick] [--budget SECONDS] [--threads N]
 * --quick: tiny models and data (a software adapter such as Mesa's lavapipe, to try the recipe).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import {
  buildArtifactSet,
  loadArtifactSet,
  readCheckpoint,
  type ArtifactSet,
} from '../../src/artifacts/index.js';
import type { GraphKey } from '../../src/artifacts/manifest.js';
import { loadSegmentationModel } from '../../src/infer/model.js';
import { segmentVideo } from '../../src/infer/segment.js';
import { profileFile, readProfile, summarizeProfile } from '../../src/onnx/profile.js';
import { createSession, ort, resolveProvider, type Feeds, type Provider } from '../../src/onnx/runtime.js';
import { runTraining } from '../../src/train/loop.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { PhaseRunner, type AnyBatch } from '../../src/train/runner.js';
import { median } from '../bench-common.js';
import { graphFeeds, relL2 } from './feeds.js';

interface Options {
  out: string;
  quick: boolean;
  budgetS: number;
  threads: number;
  /** PyTorch's CUDA timing of the same model (tools/torch-baseline/time_torch.py ... cuda) */
  torch?: string;
}

const GRAPHS: GraphKey[] = ['model', 'train_weak', 'train_ssl', 'eval_weak', 'optimizer_weak'];

function parseArgs(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = value('--out');
  if (!out) throw new Error('usage: check.js --out DIR [--quick] [--budget SECONDS] [--threads N]');
  return {
    out: resolve(out),
    quick: argv.includes('--quick'),
    budgetS: Number(value('--budget') ?? 480),
    threads: Number(value('--threads') ?? cpus().length),
    torch: value('--torch'),
  };
}

/** Seconds of `fn` per call: median of `runs` after `warm` warm-up calls. */
async function timed(fn: () => Promise<unknown>, runs: number, warm = 2): Promise<number> {
  for (let i = 0; i < warm; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  return Number(median(t).toFixed(4));
}

const round = (v: number, d = 4) => Number(v.toPrecision(d));

export async function runGpuCheck(o: Options): Promise<Record<string, unknown>> {
  mkdirSync(o.out, { recursive: true });
  const started = Date.now();
  const report: Record<string, unknown> = {
    started: new Date().toISOString(),
    quick: o.quick,
    threads: o.threads,
  };
  const save = () => writeFileSync(join(o.out, 'gpu-check.json'), JSON.stringify(report, null, 1) + '\n');
  const left = () => o.budgetS - (Date.now() - started) / 1000;
  const section = async (name: string, needS: number, fn: () => Promise<unknown>) => {
    if (left() < needS) {
      report[name] = { skipped: `out of time (${Math.round(left())} s left, needs ~${needS} s)` };
      return save();
    }
    const t0 = Date.now();
    process.stderr.write(`gpu-check: ${name} ...\n`);
    try {
      report[name] = { ...((await fn()) as object), seconds: (Date.now() - t0) / 1000 };
    } catch (e) {
      report[name] = { error: (e as Error).stack ?? String(e) };
    }
    save();
  };

  const webgpu = await resolveProvider('webgpu');
  report.provider = { ...webgpu, ortVersion: ort.env.versions?.common ?? null };
  save();

  const dir = mkdtempSync(join(tmpdir(), 'unilvseg-gpu-'));
  const build = (encoder: string, frames: number, widthMult: number, size = 112) =>
    buildArtifactSet({
      encoder,
      frames,
      period: 1,
      widthMult,
      size,
      backend: 'webgpu',
      seed: 1,
      out: join(dir, `${encoder}-${widthMult}-${frames}`),
    });
  const sets = o.quick
    ? {
        unet: await build('3d_unet_small', 16, 0.0625, 32),
        si: await build('si_resnet18_unet', 4, 0.0625, 64),
      }
    : { unet: await build('3d_unet', 32, 1), si: await build('si_resnet34_unet', 16, 1) };

  // The synthetic set for the training section is made on the CPU (JS rendering, ffmpeg) while
  // the GPU sections run: generating 200 videos takes minutes.
  const data = join(dir, 'synth');
  const videos = o.quick ? 12 : 200;
  const synthStarted = Date.now();
  const synth = new Promise<number>((done, fail) => {
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const args = [main, 'synth', '--out', data, '--videos', String(videos), '--seed', '0'];
    execFile(process.execPath, args, { maxBuffer: 1 << 26 }, (err) =>
      err ? fail(err) : done((Date.now() - synthStarted) / 1000),
    );
  });
  synth.catch(() => undefined); // awaited (and reported) by the training section

  await section('placement', 30, async () => {
    const result: Record<string, unknown> = {};
    for (const [family, set] of Object.entries(sets))
      for (const key of GRAPHS) {
        const prefix = join(dir, `prof-${family}-${key}`);
        const session = await createSession(set.files[key], { ep: 'webgpu', profilePrefix: prefix });
        await session.run(graphFeeds(set, key, 2));
        session.endProfiling();
        const s = summarizeProfile(readProfile(profileFile(prefix)), 'WebGpuExecutionProvider', {
          hostElements: set.manifest.model.size ** 2,
        });
        result[`${family}:${key}`] = {
          fellBack: s.fellBack.map((r) => `${r.op} ${r.node} (${r.outputElements} values) on ${r.provider}`),
          keptOnHost: s.keptOnHost.map((r) => r.op),
        };
        await session.release();
      }
    return {
      allOnWebGpu: Object.values(result).every((r) => (r as { fellBack: string[] }).fellBack.length === 0),
      graphs: result,
    };
  });

  await section('numerics', 60, async () => {
    const result: Record<string, unknown> = {};
    for (const [family, set] of Object.entries(sets))
      for (const key of ['train_weak', 'train_ssl'] as const) {
        const feeds = graphFeeds(set, key, 2, 7);
        const out = {} as Record<Provider, Record<string, ort.Tensor>>;
        for (const ep of ['cpu', 'webgpu'] as const) {
          const session = await createSession(set.files[key], { ep, threads: o.threads });
          out[ep] = await session.run(feeds);
          await session.release();
        }
        const grads = Object.keys(out.cpu).filter((k) => k.endsWith('.grad'));
        const flat = (r: Record<string, ort.Tensor>) =>
          grads.flatMap((k) => Array.from(r[k].data as Float32Array));
        const [lc, lg] = [Number(out.cpu.loss.data[0]), Number(out.webgpu.loss.data[0])];
        result[`${family}:${key}`] = {
          lossCpu: lc,
          lossWebGpu: lg,
          lossRelError: round(Math.abs(lg - lc) / Math.abs(lc), 3),
          gradRelL2: round(relL2(flat(out.webgpu), flat(out.cpu)), 3),
        };
      }
    return result;
  });

  await section('inference', 60, async () => {
    const set = sets.unet;
    const result: Record<string, unknown> = {
      model: `${set.manifest.model.encoder} T=${set.manifest.model.frames}`,
    };
    for (const ep of ['webgpu', 'cpu'] as const)
      for (const n of ep === 'webgpu' ? [1, 16] : [1]) {
        const session = await createSession(set.files.model, { ep, threads: o.threads });
        const feeds = graphFeeds(set, 'model', n);
        const s = await timed(() => session.run(feeds), ep === 'cpu' ? 3 : 5, ep === 'cpu' ? 1 : 2);
        result[`${ep}_batch${n}_s`] = s;
        result[`${ep}_batch${n}_frames_per_s`] = round((n * set.manifest.model.frames) / s);
        await session.release();
      }
    return result;
  });

  const trainStep = async (set: ArtifactSet, phase: 'weak' | 'ssl', n: number, ep: Provider) => {
    const runner = await PhaseRunner.open(set, phase, { ep, threads: o.threads });
    const state = readCheckpoint(set.files.checkpoint, set.manifest);
    const f = graphFeeds(set, phase === 'weak' ? 'train_weak' : 'train_ssl', n, 3);
    const items = Array.from({ length: n }, (_, i) => ({
      fileName: `v${i}`,
      which: 'ed' as const,
      traceFrame: 0,
    }));
    const batch: AnyBatch =
      phase === 'weak'
        ? {
            frames: f.frames.data as Uint8Array,
            trace_mask: f.trace_mask.data as Float32Array,
            trace_index: f.trace_index.data as BigInt64Array,
            items,
          }
        : { frames: f.frames.data as Uint8Array, keep: f.keep.data as Float32Array, items };
    const seconds = await timed(
      () => runner.step(state, batch, 1e-4),
      ep === 'cpu' ? 1 : 3,
      ep === 'cpu' ? 1 : 2,
    );
    const traffic = { ...runner.resident.traffic };
    await runner.release();
    return { seconds, bytesToDevice: traffic.toDevice, bytesToHost: traffic.toHost };
  };

  await section('train_step', 120, async () => {
    const big = o.quick ? 2 : 16;
    const plan: [ArtifactSet, 'weak' | 'ssl', number, Provider][] = [
      [sets.unet, 'weak', big, 'webgpu'],
      [sets.unet, 'weak', 1, 'webgpu'],
      [sets.unet, 'weak', 1, 'cpu'],
      [sets.unet, 'ssl', big, 'webgpu'],
      [sets.si, 'weak', o.quick ? 2 : 8, 'webgpu'],
    ];
    const result: Record<string, unknown> = {};
    for (const [set, phase, n, ep] of plan)
      result[`${set.manifest.model.encoder}_${phase}_batch${n}_${ep}`] = await trainStep(set, phase, n, ep);
    return result;
  });

  await section('train_profile', 40, async () => {
    const set = sets.unet;
    const n = o.quick ? 2 : 16;
    const prefix = join(dir, 'prof-train-step');
    const session = await createSession(set.files.train_weak, { ep: 'webgpu', profilePrefix: prefix });
    const feeds: Feeds = graphFeeds(set, 'train_weak', n);
    await session.run(feeds); // warm-up: shader compilation
    const t0 = performance.now();
    await session.run(feeds);
    const wall = (performance.now() - t0) / 1000;
    session.endProfiling();
    const runs = readProfile(profileFile(prefix));
    const s = summarizeProfile(runs, 'WebGpuExecutionProvider', { top: 15 });
    await session.release();
    // kernel times of both runs (warm-up included); the wall time is the second run's
    return {
      batch: n,
      wallSecondsSecondRun: round(wall),
      kernelMsBothRuns: s.msByProvider,
      topOps: s.topOps,
    };
  });

  await section('ort_train', 150, async () => {
    const synthS = await synth;
    const runDir = join(dir, 'run');
    const t1 = Date.now();
    // the README's CPU recipe (3d_unet_small x0.25, T=16, batch 4, lr 1e-3), on the GPU
    const summary = await runTraining({
      ...defaultTrainOptions('weak'),
      dataPath: data,
      out: runDir,
      encoder: '3d_unet_small',
      widthMult: o.quick ? 0.0625 : 0.25,
      frames: 16,
      batchSize: 4,
      lr: 1e-3,
      epochs: o.quick ? 1 : 4,
      ep: 'webgpu',
      numWorkers: 2,
      threads: o.threads,
    });
    return { videos, synthSeconds: synthS, trainSeconds: (Date.now() - t1) / 1000, summary, runDir };
  });

  await section('segment_video', 40, async () => {
    const run = (report.ort_train as { runDir?: string } | undefined)?.runDir;
    const set = run ? loadArtifactSet(join(run, 'artifacts')) : sets.unet;
    const video = join(dir, 'synth', 'Videos');
    const first = join(video, readdirSync(video).sort()[0]);
    const result: Record<string, unknown> = { video: first };
    for (const ep of ['webgpu', 'cpu'] as const) {
      const model = await loadSegmentationModel({ model: set.dir, ep, threads: o.threads });
      const t0 = Date.now();
      const s = await segmentVideo({
        videoPath: first,
        outDir: join(dir, `seg-${ep}`),
        model,
        overlay: false,
      });
      result[`${ep}_frames_per_s`] = round(s.frames / ((Date.now() - t0) / 1000));
      await model.session.release();
    }
    return result;
  });

  if (o.torch && existsSync(o.torch))
    report.vsPyTorch = vsPyTorch(report, JSON.parse(readFileSync(o.torch, 'utf8')));
  // Which conv weight-gradient form suits the GPU (the CPU's stacked-MatMul form copies a lot):
  // the 3d_unet weak step at batch 16 with the other form, same run. Last: only if time is left.
  await section('forms_ab', 90, async () => {
    const n = o.quick ? 2 : 16;
    const other = await buildArtifactSet({
      ...sets.unet.manifest.model,
      period: 1,
      seed: 1,
      backend: 'webgpu',
      formOverrides: { convWeightGrad: 'batch-conv' },
      out: join(dir, 'unet-batch-conv'),
    });
    return {
      batch: n,
      stackedMatmul: await trainStep(sets.unet, 'weak', n, 'webgpu'),
      batchConv: await trainStep(other, 'weak', n, 'webgpu'),
    };
  });

  report.totalSeconds = (Date.now() - started) / 1000;
  save();
  return report;
}

interface TorchTiming {
  batch1: { inferenceSeconds: number; trainStepSeconds: number };
  batch16: { inferenceSeconds: number; trainStepSeconds: number };
}

/** Our WebGPU times over PyTorch CUDA's on the same GPU in the same run (the goal: <= 3). */
function vsPyTorch(report: Record<string, unknown>, torch: TorchTiming) {
  const inf = report.inference as Record<string, number> | undefined;
  const steps = report.train_step as Record<string, { seconds: number }> | undefined;
  const step16 = steps && Object.entries(steps).find(([k]) => /^3d_unet_weak_batch16_webgpu$/.test(k))?.[1];
  return {
    torch,
    inferenceBatch1Ratio: inf?.webgpu_batch1_s
      ? round(inf.webgpu_batch1_s / torch.batch1.inferenceSeconds)
      : null,
    inferenceBatch16Ratio: inf?.webgpu_batch16_s
      ? round(inf.webgpu_batch16_s / torch.batch16.inferenceSeconds)
      : null,
    weakStepBatch16Ratio: step16 ? round(step16.seconds / torch.batch16.trainStepSeconds) : null,
  };
}

/** `npm run bench` section: the GPU check in quick form where a hardware adapter exists. */
export async function benchGpu(): Promise<unknown> {
  const { softwareAdapterOnly, webgpuUnavailable } = await import('../../src/onnx/runtime.js');
  const why = await webgpuUnavailable();
  if (why) return { skipped: `no WebGPU adapter (${why})` };
  if (softwareAdapterOnly())
    return {
      skipped:
        'the only WebGPU adapter is a software rasteriser; run tools/gpu/check.js --quick to try the recipe',
    };
  return runGpuCheck({
    out: mkdtempSync(join(tmpdir(), 'unilvseg-bench-gpu-')),
    quick: false,
    budgetS: 480,
    threads: cpus().length,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runGpuCheck(parseArgs(process.argv.slice(2)))
    .then((r) => console.log(JSON.stringify(r, null, 1)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
