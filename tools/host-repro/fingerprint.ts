// A run's fingerprint under one host condition (threads, data workers, CPU features, Node
// version), stage by stage, so two fingerprints show where two hosts' runs of the demo part
// (docs/numerics.md#across-hosts): V8's Math functions, the synthetic renderer (JavaScript),
// ffmpeg's MJPEG encode and decode (also with its SIMD restricted by -cpuflags), the data loader's
// batches, the initial weights, every node output of a forward pass, every gradient of a training
// step, and the loss and weights over the first optimizer steps of SSL and weak supervision.
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  buildArtifactSet,
  loadArtifactSet,
  readCheckpoint,
  type ArtifactSet,
} from '../../src/artifacts/index.js';
import { openEchoNet } from '../../src/data/echonet.js';
import { BatchLoader } from '../../src/data/loader.js';
import { generateDataset, renderSynthVideo } from '../../src/data/synth/dataset.js';
import { SYNTH_FRAMES } from '../../src/data/synth/params.js';
import { codecOptions, decodeVideo, encodeVideo } from '../../src/data/video.js';
import { DEFAULT_SEED, type Phase } from '../../src/defaults.js';
import type { AnyTypedArray } from '../../src/onnx/dtype.js';
import { createSession, ort, tensor, type Feeds } from '../../src/onnx/runtime.js';
import { decodeGraph } from '../../src/onnx/serialize.js';
import { PhaseRunner } from '../../src/train/runner.js';
import { Rng } from '../../src/util/rng.js';

/** Enough of a tensor to tell equal from different, and by how much. */
export interface Digest {
  sha: string;
  n: number;
  sum: number;
  l2: number;
}

export function digest(a: AnyTypedArray | Uint8Array): Digest {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let sum = 0;
  let sq = 0;
  if (!(a instanceof BigInt64Array))
    for (let i = 0; i < a.length; i++) {
      const v = Number(a[i]);
      sum += v;
      sq += v * v;
    }
  return {
    sha: createHash('sha256').update(bytes).digest('hex').slice(0, 16),
    n: a.length,
    sum,
    l2: Math.sqrt(sq),
  };
}

export interface NodeDigest extends Digest {
  /** position in the graph's node list (topological) */
  index: number;
  op: string;
  output: string;
}

export interface StepRecord {
  step: number;
  batch: Digest;
  /** the loss as a float64's bits, and its value */
  lossHex: string;
  loss: number;
  /** every weight after the step, concatenated in manifest order */
  params: Digest;
}

export interface Fingerprint {
  label: string;
  host: Record<string, string | number | boolean>;
  math: Record<string, Digest>;
  render: { rgb: Digest; masks: Digest }[];
  ffmpeg: Record<string, { avi: Digest; decoded: Digest } | { error: string }>;
  /** null with --shared (the shared set's weights are used) */
  initialParams: Digest | null;
  phases: Partial<
    Record<Phase, { forward: NodeDigest[]; gradients: Record<string, Digest>; steps: StepRecord[] }>
  >;
}

export interface FingerprintOptions {
  label: string;
  work: string;
  threads: number;
  workers: number;
  steps: number;
  /** train on this folder's data/ and set/ (a reference run's) so that only the kernels differ */
  shared?: string;
  /** only the JavaScript and ffmpeg stages (no training) */
  noTrain?: boolean;
}

const f64hex = (v: number) => Buffer.from(new Float64Array([v]).buffer).toString('hex');

function hostInfo(o: FingerprintOptions): Fingerprint['host'] {
  const flags =
    readFileSync('/proc/cpuinfo', 'utf8')
      .match(/^flags\s*:(.*)$/m)?.[1]
      ?.trim()
      .split(/\s+/) ?? [];
  const ffmpegVersion = spawnSync(ffmpegInstaller.path, ['-version'], { encoding: 'utf8' }).stdout.split(
    '\n',
  )[0];
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cpusSeen: cpus().length,
    avx512f: flags.includes('avx512f'),
    avx2: flags.includes('avx2'),
    fma: flags.includes('fma'),
    node: process.version,
    v8: process.versions.v8,
    ort: ort.env.versions.node ?? 'unknown',
    ffmpeg: ffmpegVersion,
    threads: o.threads,
    workers: o.workers,
  };
}

/** Each Math function on the same 20,000 seeded arguments. */
function mathBattery(): Record<string, Digest> {
  const rng = new Rng(1);
  const x = Float64Array.from({ length: 20000 }, () => (rng.uniform() - 0.5) * 40);
  const u = Float64Array.from({ length: 20000 }, () => rng.uniform() * 2 - 1);
  const unary = [
    'sin',
    'cos',
    'tan',
    'exp',
    'expm1',
    'log',
    'log1p',
    'log2',
    'log10',
    'sinh',
    'cosh',
    'tanh',
    'atan',
    'cbrt',
    'sqrt',
  ] as const;
  const out: Record<string, Digest> = {};
  for (const f of unary) {
    const fn = Math[f] as (v: number) => number;
    out[f] = digest(x.map((v) => (f.startsWith('log') || f === 'sqrt' ? fn(Math.abs(v)) : fn(v))));
  }
  out.asin = digest(u.map(Math.asin));
  out.acos = digest(u.map(Math.acos));
  out.pow = digest(x.map((v, i) => Math.pow(Math.abs(v), u[i] * 3)));
  out.atan2 = digest(x.map((v, i) => Math.atan2(v, u[i])));
  out.hypot = digest(x.map((v, i) => Math.hypot(v, u[i])));
  return out;
}

/** MJPEG encode and decode of the same frames by the bundled ffmpeg, with its SIMD as detected or restricted. */
async function ffmpegStages(work: string, rgb: Uint8Array, fps: number): Promise<Fingerprint['ffmpeg']> {
  const out: Fingerprint['ffmpeg'] = {};
  const avi = join(work, 'render0.avi');
  await encodeVideo(avi, rgb, { width: 112, height: 112, fps, codec: 'mjpeg' });
  out['library (as detected)'] = {
    avi: digest(readFileSync(avi)),
    decoded: digest((await decodeVideo(avi)).frames),
  };
  const codec = await codecOptions('mjpeg');
  for (const flags of ['mmx+mmxext+sse+sse2', '0']) {
    const file = join(work, `render0-${flags.replace(/\W/g, '_')}.avi`);
    const cpu = ['-cpuflags', flags];
    const enc = spawnSync(
      ffmpegInstaller.path,
      [
        '-v',
        'error',
        ...cpu,
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        '112x112',
        '-framerate',
        String(fps),
        '-i',
        '-',
        ...codec,
        '-an',
        '-y',
        file,
      ],
      { input: rgb, maxBuffer: 1 << 30 },
    );
    const dec =
      enc.status === 0 &&
      spawnSync(
        ffmpegInstaller.path,
        [
          '-v',
          'error',
          ...cpu,
          '-i',
          file,
          '-map',
          '0:v:0',
          '-pix_fmt',
          'rgb24',
          '-vsync',
          'passthrough',
          '-f',
          'rawvideo',
          '-',
        ],
        { maxBuffer: 1 << 30 },
      );
    out[`-cpuflags ${flags}`] =
      enc.status === 0 && dec && dec.status === 0
        ? { avi: digest(readFileSync(file)), decoded: digest(new Uint8Array(dec.stdout)) }
        : { error: String((dec || enc).stderr) };
  }
  return out;
}

/** The demo's dataset (seed 42, 100-200 frames), its first 8 videos: the same pictures, fewer of them. */
async function ensureData(work: string): Promise<string> {
  const dir = join(work, 'data');
  if (!existsSync(join(dir, 'FileList.csv')))
    await generateDataset({
      out: dir,
      videos: 8,
      seed: DEFAULT_SEED,
      framesMin: SYNTH_FRAMES.min,
      framesMax: SYNTH_FRAMES.max,
      progress: false,
    });
  return dir;
}

/** The demo's model (3d_unet_small x0.25, T=16, seed 42). */
async function ensureSet(work: string): Promise<ArtifactSet> {
  const dir = join(work, 'set');
  if (!existsSync(join(dir, 'manifest.json')))
    await buildArtifactSet({
      encoder: '3d_unet_small',
      frames: 16,
      period: 1,
      widthMult: 0.25,
      seed: DEFAULT_SEED,
      out: dir,
    });
  return loadArtifactSet(dir);
}

function concatParams(params: Map<string, Float32Array>, names: string[]): Float32Array {
  const total = names.reduce((n, k) => n + params.get(k)!.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const k of names) {
    all.set(params.get(k)!, at);
    at += params.get(k)!.length;
  }
  return all;
}

/**
 * Every float output of every node of `graphFile`, run on `feeds`: the graph with all its
 * intermediate values added as outputs (so ORT may fuse less than in a plain run; the kernels
 * that run are the same kinds).
 */
async function nodeOutputs(graphFile: string, feeds: Feeds, threads: number): Promise<NodeDigest[]> {
  const g = decodeGraph(readFileSync(graphFile));
  const have = new Set(g.outputs.map((o) => o.name));
  const order: { index: number; op: string; output: string }[] = [];
  g.nodes.forEach((n, index) =>
    n.outputs.forEach((output) => {
      const v = g.values.get(output);
      if (!output || have.has(output) || !v || v.dtype !== 'float32') return;
      g.outputs.push(v);
      have.add(output);
      order.push({ index, op: n.op, output });
    }),
  );
  const session = await createSession(g, { threads });
  try {
    const wanted = Object.fromEntries(Object.entries(feeds).filter(([k]) => session.inputNames.includes(k)));
    const res = await session.run(wanted);
    return order.map((o) => ({ ...o, ...digest(res[o.output].data as Float32Array) }));
  } finally {
    await session.release();
  }
}

async function phaseRecord(phase: Phase, set: ArtifactSet, data: string, o: FingerprintOptions) {
  const m = set.manifest;
  const names = m.params.map((p) => p.name);
  const init = readCheckpoint(set.files.checkpoint, m);
  const state = { ...init, optimizer: new Map(), step: 0, epoch: 0, metadata: {} };
  const loader = new BatchLoader({
    videos: openEchoNet(data, 'all'),
    phase,
    frames: m.model.frames,
    period: 1,
    batchSize: 4,
    train: true,
    shuffle: true,
    dropLast: true,
    numWorkers: o.workers,
    seed: DEFAULT_SEED,
  });
  const runner = await PhaseRunner.open(set, phase, { threads: o.threads });
  const steps: StepRecord[] = [];
  let forward: NodeDigest[] = [];
  const gradients: Record<string, Digest> = {};
  try {
    for await (const batch of loader.epoch(0)) {
      if (steps.length === 0) {
        // the first batch, before any step: the forward pass node by node, and the gradients
        const feeds: Feeds = {
          frames: tensor('uint8', batch.frames, [4, m.model.frames, m.model.size, m.model.size, 3]),
        };
        if ('keep' in batch) feeds.keep = tensor('float32', batch.keep, [4, m.model.frames]);
        else {
          feeds.trace_mask = tensor('float32', batch.trace_mask, [4, m.model.size, m.model.size]);
          feeds.trace_index = tensor('int64', batch.trace_index, [4]);
        }
        for (const p of m.params) feeds[p.name] = tensor('float32', state.params.get(p.name)!, p.shape);
        // the whole batch in one train run: no other micro-batches' sums
        for (const k of ['others_intersection', 'others_cardinality', 'others_positives'])
          feeds[k] = tensor('float32', Float32Array.of(0), []);
        const evalFile = phase === 'ssl' ? set.files.eval_ssl : set.files.eval_weak;
        forward = await nodeOutputs(evalFile, feeds, o.threads);
        const trainFile = phase === 'ssl' ? set.files.train_ssl : set.files.train_weak;
        const train = await createSession(trainFile, { threads: o.threads });
        const res = await train.run(
          Object.fromEntries(Object.entries(feeds).filter(([k]) => train.inputNames.includes(k))),
        );
        for (const k of train.outputNames) gradients[k] = digest(res[k].data as Float32Array);
        await train.release();
      }
      const r = await runner.step(state, batch, 1e-3);
      await runner.sync(state);
      steps.push({
        step: state.step,
        batch: digest(batch.frames),
        lossHex: f64hex(r.loss),
        loss: r.loss,
        params: digest(concatParams(state.params, names)),
      });
      if (steps.length >= o.steps) break;
    }
  } finally {
    await loader.close();
    await runner.release();
  }
  return { forward, gradients, steps };
}

export async function fingerprint(o: FingerprintOptions): Promise<Fingerprint> {
  const host = hostInfo(o);
  const math = mathBattery();
  const render = [];
  let first: { rgb: Uint8Array; fps: number } | undefined;
  for (const i of [0, 1]) {
    const v = await renderSynthVideo(
      { seed: DEFAULT_SEED, framesMin: SYNTH_FRAMES.min, framesMax: SYNTH_FRAMES.max },
      i,
    );
    render.push({ rgb: digest(v.rgb), masks: digest(v.masks) });
    first ??= { rgb: v.rgb, fps: v.params.fps };
  }
  const ffmpeg = await ffmpegStages(o.work, first!.rgb, first!.fps);
  // with --shared the weights are the shared set's (building a set under qemu takes long): not compared
  const own = await ensureSet(o.shared ?? o.work);
  const init = readCheckpoint(own.files.checkpoint, own.manifest);
  const initialParams = o.shared
    ? null
    : digest(
        concatParams(
          init.params,
          own.manifest.params.map((p) => p.name),
        ),
      );
  if (o.noTrain) return { label: o.label, host, math, render, ffmpeg, initialParams, phases: {} };
  const data = await ensureData(o.shared ?? o.work);
  const set = own;
  const phases = {
    ssl: await phaseRecord('ssl', set, data, o),
    weak: await phaseRecord('weak', set, data, o),
  };
  return { label: o.label, host, math, render, ffmpeg, initialParams, phases };
}
