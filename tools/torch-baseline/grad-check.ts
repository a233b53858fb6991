/**
 * Developer check (needs Debian's python3-torch; not part of the product or of CI): every
 * parameter's gradient from our train_ssl.onnx and train_weak.onnx against PyTorch autograd in
 * float64 on the upstream UNet3D with the same weights and batch (grad_reference.py), with
 * PyTorch's own float32 gradients for scale.
 *
 * The batch: N synthetic echo clips (the dataset generator's renderer, fixed seed, resampled to the
 * set's frame size), a fixed SSL masking, and the traced frame's LV mask for the weak loss.
 * Error of a gradient = ||ours - ref64|| / ||ref64|| (relative L2). Gradients that are zero in
 * exact arithmetic (the bias of a conv followed by InstanceNorm; a BatchNorm scale normalised away
 * by the next BatchNorm) are measured against the norm of the same layer's other gradient
 * (weight <-> bias) instead, since they are pure rounding noise around 0.
 *
 * A gradient passes when its error is at most the tolerance or 4x PyTorch float32's own error on
 * it. PReLU slopes get their own, looser tolerance: each is one sum over a whole activation whose
 * terms mostly cancel, so any float32 error in the activation gradient is magnified (PyTorch's
 * float32 misses some by 100 %, where the exact gradient is ~1e-8).
 *
 * Usage: node dist/tools/torch-baseline/grad-check.js ARTIFACT_DIR [--weights W.safetensors]
 *          [--work DIR] [--batch N] [--tolerance 1e-3] [--slope-tolerance 2e-2]
 *          [--python /usr/bin/python3] [--reuse-reference] [--top 8]
 * Prints one JSON object; exits 1 when a gradient fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  inversePermutation,
  loadArtifactSet,
  permuteArray,
  readCheckpoint,
  readSafetensors,
  writeSafetensors,
  type ArtifactSet,
  type SafeTensor,
} from '../../src/artifacts/index.js';
import { makeTimeline, valveOpening } from '../../src/data/synth/motion.js';
import { SIZE, sampleParams } from '../../src/data/synth/params.js';
import { VideoRenderer } from '../../src/data/synth/render.js';
import { sampleKeep } from '../../src/data/masking.js';
import { createSession, tensor, type Feeds } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

export interface GradBatch {
  /** uint8 [N, T, S, S, 3] */
  frames: Uint8Array;
  /** float32 [N, T], 1 visible, 0 masked */
  keep: Float32Array;
  /** float32 [N, S, S] */
  traceMask: Float32Array;
  /** [N] */
  traceIndex: number[];
  n: number;
}

/** N synthetic clips of T frames around each video's traced end-diastole, nearest-resampled to S x S. */
export function gradBatch(n: number, frames: number, size: number, maskRatio: number, seed = 7): GradBatch {
  const px = size * size;
  const out: GradBatch = {
    frames: new Uint8Array(n * frames * px * 3),
    keep: new Float32Array(n * frames),
    traceMask: new Float32Array(n * px),
    traceIndex: [],
    n,
  };
  const src = Array.from({ length: size }, (_, i) => Math.floor(((i + 0.5) * SIZE) / size));
  for (let v = 0; v < n; v++) {
    const params = sampleParams(Rng.derive(seed, 3, v), {
      framesMin: 2 * frames + 8,
      framesMax: Math.max(3 * frames, 2 * frames + 16),
    });
    const timeline = makeTimeline(Rng.derive(seed, 4, v), params.frames, params.fps, params.heartRate);
    const renderer = new VideoRenderer(params, Rng.derive(seed, 5, v));
    const start = Math.max(0, Math.min(params.frames - frames, timeline.tracedEd - (frames >> 1)));
    const rgb = new Uint8Array(SIZE * SIZE * 3);
    const mask = new Uint8Array(SIZE * SIZE);
    for (let t = 0; t < start + frames; t++) {
      renderer.render(t, timeline.k[t], valveOpening(timeline.phase[t]), timeline.breath[t], rgb, mask);
      if (t < start) continue;
      const base = (v * frames + t - start) * px * 3;
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          for (let c = 0; c < 3; c++)
            out.frames[base + (y * size + x) * 3 + c] = rgb[(src[y] * SIZE + src[x]) * 3 + c];
      if (t === timeline.tracedEd)
        for (let y = 0; y < size; y++)
          for (let x = 0; x < size; x++) out.traceMask[v * px + y * size + x] = mask[src[y] * SIZE + src[x]];
    }
    out.traceIndex.push(timeline.tracedEd - start);
    out.keep.set(sampleKeep(Rng.derive(seed, 6, v), frames, maskRatio), v * frames);
  }
  return out;
}

const l2 = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};
const l2diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

export interface ParamError {
  name: string;
  /** ||ref64||, or the weight's for a bias that is 0 in exact arithmetic */
  scale: number;
  ours: number;
  torch32: number;
}

export interface PhaseReport {
  loss: { ours: number; ref64: number; torch32: number };
  /** worst conv weight or bias, and worst PReLU slope */
  worstConv: ParamError;
  worstSlope: ParamError;
  failures: ParamError[];
  /** the errors sorted from worst, ours */
  params: ParamError[];
}

const TORCH32_FACTOR = 4;
export const isSlope = (name: string) => name.endsWith('.adn.A.weight');

/** Runs one train graph on the batch and compares every `<param>.grad` with the references. */
async function comparePhase(
  set: ArtifactSet,
  phase: 'ssl' | 'weak',
  weights: Map<string, Float32Array>,
  batch: GradBatch,
  ref: Map<string, SafeTensor>,
  refLoss: { f64: number; f32: number },
  tolerance: { conv: number; slope: number },
): Promise<PhaseReport> {
  const { frames: T, size: S } = set.manifest.model;
  const session = await createSession(phase === 'ssl' ? set.files.train_ssl : set.files.train_weak, {
    threads: 2,
  });
  const feeds: Feeds = { frames: tensor('uint8', batch.frames, [batch.n, T, S, S, 3]) };
  for (const p of set.manifest.params) feeds[p.name] = tensor('float32', weights.get(p.name)!, p.shape);
  if (phase === 'ssl') feeds.keep = tensor('float32', batch.keep, [batch.n, T]);
  else {
    feeds.trace_mask = tensor('float32', batch.traceMask, [batch.n, S, S]);
    feeds.trace_index = tensor('int64', BigInt64Array.from(batch.traceIndex, BigInt), [batch.n]);
    for (const k of ['others_intersection', 'others_cardinality', 'others_positives'])
      feeds[k] = tensor('float32', new Float32Array(1), []);
  }
  const result = await session.run(feeds);
  const grads = set.manifest.params
    .filter((q) => q.kind === 'param')
    .map((p) => {
      const graphGrad = result[`${p.name}.grad`].data as Float32Array;
      const r64 = ref.get(`${phase}.f64.${p.name}`)!.data as Float64Array;
      return {
        name: p.name,
        ours: permuteArray(graphGrad, p.shape, inversePermutation(p.permutation)),
        r64,
        r32: ref.get(`${phase}.f32.${p.name}`)!.data as Float32Array,
        norm: l2(r64),
      };
    });
  const norms = new Map(grads.map((g) => [g.name, g.norm]));
  const sibling = (name: string) =>
    name.endsWith('.bias')
      ? `${name.slice(0, -'.bias'.length)}.weight`
      : name.endsWith('.weight')
        ? `${name.slice(0, -'.weight'.length)}.bias`
        : undefined;
  const rows: ParamError[] = grads.map(({ name, ours, r64, r32, norm }) => {
    // A gradient that is 0 in exact arithmetic is rounding noise around 0: scale it by its layer's
    // other gradient. A bias before InstanceNorm; or a BatchNorm scale whose output is normalised
    // again with nothing between that breaks the scale invariance (one channel through ReLU and a
    // bias-free conv into the next BatchNorm, as the narrowest decoder block has).
    const other = norms.get(sibling(name) ?? '') ?? 0;
    const scale = norm < 1e-5 * other ? other : norm;
    return { name, scale, ours: l2diff(ours, r64) / scale, torch32: l2diff(r32, r64) / scale };
  });
  rows.sort((a, b) => b.ours - a.ours);
  const ourLoss = (result.loss.data as Float32Array)[0];
  const allowed = (r: ParamError) =>
    Math.max(isSlope(r.name) ? tolerance.slope : tolerance.conv, TORCH32_FACTOR * r.torch32);
  return {
    loss: { ours: ourLoss, ref64: refLoss.f64, torch32: refLoss.f32 },
    worstConv: rows.find((r) => !isSlope(r.name))!,
    worstSlope: rows.find((r) => isSlope(r.name))!,
    failures: rows.filter((r) => r.ours > allowed(r)),
    params: rows,
  };
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      weights: { type: 'string' },
      work: { type: 'string' },
      batch: { type: 'string', default: '2' },
      tolerance: { type: 'string', default: '1e-3' },
      'slope-tolerance': { type: 'string', default: '2e-2' },
      python: { type: 'string', default: '/usr/bin/python3' },
      top: { type: 'string', default: '8' },
      'reuse-reference': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) {
    console.error(
      'usage: node dist/tools/torch-baseline/grad-check.js ARTIFACT_DIR [--weights W] [--work DIR] [--batch N] [--tolerance T] [--slope-tolerance S]',
    );
    process.exit(2);
  }
  const set = loadArtifactSet(positionals[0]);
  const weightsPath = values.weights ?? set.files.checkpoint;
  const work = values.work ?? join(tmpdir(), `unilvseg-grad-check-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const { frames: T, size: S } = set.manifest.model;
  const batch = gradBatch(Number(values.batch), T, S, set.manifest.ssl.maskRatio);
  writeSafetensors(
    join(work, 'batch.safetensors'),
    new Map<string, SafeTensor>([
      ['frames', { dtype: 'U8', shape: [batch.n, T, S, S, 3], data: batch.frames }],
      ['keep', { dtype: 'F32', shape: [batch.n, T], data: batch.keep }],
      ['trace_mask', { dtype: 'F32', shape: [batch.n, S, S], data: batch.traceMask }],
      ['trace_index', { dtype: 'I64', shape: [batch.n], data: BigInt64Array.from(batch.traceIndex, BigInt) }],
    ]),
  );
  const script = join(
    dirname(fileURLToPath(import.meta.url)),
    '../../../tools/torch-baseline/grad_reference.py',
  );
  if (!values['reuse-reference'] || !existsSync(join(work, 'torch_grads.safetensors'))) {
    const py = spawnSync(values.python!, [script, set.dir, weightsPath, work], {
      stdio: ['ignore', process.stderr, process.stderr], // stdout carries only the JSON report
    });
    if (py.status !== 0) throw new Error(`${values.python} ${script} failed (exit ${py.status})`);
  }
  const ref = readSafetensors(join(work, 'torch_grads.safetensors'));
  const weights = readCheckpoint(weightsPath, set.manifest).params;
  const tolerance = { conv: Number(values.tolerance), slope: Number(values['slope-tolerance']) };
  const report: Record<string, unknown> = {
    encoder: set.manifest.model.encoder,
    frames: T,
    size: S,
    batch: batch.n,
    weights: weightsPath,
    tolerance: { ...tolerance, torch32Factor: TORCH32_FACTOR },
  };
  let failures = 0;
  for (const phase of ['ssl', 'weak'] as const) {
    const refLoss = {
      f64: Number(ref.metadata[`${phase}.f64.loss`]),
      f32: Number(ref.metadata[`${phase}.f32.loss`]),
    };
    const r = await comparePhase(set, phase, weights, batch, ref.tensors, refLoss, tolerance);
    failures += r.failures.length;
    report[phase] = { ...r, params: r.params.slice(0, Number(values.top)) };
  }
  report.pass = failures === 0;
  console.log(JSON.stringify(report, null, 1));
  if (!report.pass) process.exitCode = 1; // not exit(): a piped stdout would lose the report's tail
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
