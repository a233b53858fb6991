// buildArtifactSet: every graph of a model, its initial checkpoint and the manifest, in one folder.
import { formsFor, type Backend, type GraphForms } from '../onnx/forms.js';
import { webgpuIncompatibilities } from '../onnx/webgpu-support.js';
import { join, resolve } from 'node:path';
import { initialValues, parameterCount, type ParamSpec } from '../../graphs/layers.js';
import { createModel, type EncoderName, type ModelConfig, type SegModel } from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { inferenceGraph, sslGraph, weakGraph } from '../../graphs/tasks.js';
import { assertGraphOk } from '../onnx/check.js';
import type { Graph } from '../onnx/ir.js';
import { encodeGraph, OPSET } from '../onnx/serialize.js';
import {
  DEFAULT_LR,
  optimizerGraph,
  optimizerStateSuffixes,
  SSL_OPTIMIZER,
  WEAK_OPTIMIZER,
} from '../optim/index.js';
import { atomicWriteFile } from '../util/atomic.js';
import { writeCheckpoint } from './checkpoint.js';
import {
  CHECKPOINT_FILE,
  CONVENTIONS,
  describeGraph,
  formatJson,
  GRAPH_FILES,
  MANIFEST_FILE,
  producerVersion,
  type GraphKey,
  type Manifest,
} from './manifest.js';
import { DEFAULT_MASK_RATIO, DEFAULT_SEED, FRAME_SIZE } from '../defaults.js';

export interface BuildOptions {
  encoder: EncoderName | string;
  frames: number;
  period: number;
  /** output folder */
  out: string;
  /** SSL fraction of masked frames (3D), recorded for the training loop; default 0.6 */
  maskRatio?: number;
  mean?: number[];
  std?: number[];
  /** initialisation seed; default 42 */
  seed?: number;
  widthMult?: number;
  /** frame side H = W; default 112 */
  size?: number;
  /** super-image tile side (SI models); default 128 for 112-px frames */
  tile?: number;
  /** the execution provider family whose graph forms to emit (src/onnx/forms.ts); default cpu */
  backend?: Backend;
  /** single form choices over the backend's (benchmarks comparing forms; recorded in the manifest) */
  formOverrides?: Partial<GraphForms>;
  /**
   * the command line recorded in the manifest; default: the equivalent build-graph command with every option
   * spelled out
   */
  command?: string;
}

export interface ArtifactSet {
  dir: string;
  manifest: Manifest;
  /** absolute path of every file of the set */
  files: Record<GraphKey | 'checkpoint' | 'manifest', string>;
}

export function artifactFiles(dir: string): ArtifactSet['files'] {
  const graphs = Object.fromEntries(Object.entries(GRAPH_FILES).map(([k, f]) => [k, join(dir, f)])) as Record<
    GraphKey,
    string
  >;
  return { ...graphs, checkpoint: join(dir, CHECKPOINT_FILE), manifest: join(dir, MANIFEST_FILE) };
}

const DESCRIPTIONS: Record<GraphKey, string> = {
  model: 'inference: frames -> logits, weights as initializers',
  train_ssl:
    'temporal-masking reconstruction, training mode: loss, mse, gradients (+ BatchNorm running statistics)',
  eval_ssl: 'temporal-masking reconstruction, evaluation mode: loss, mse',
  train_weak:
    'weak supervision on the traced frame, training mode: Dice loss, tp/fp/fn, gradients (+ BatchNorm running statistics)',
  eval_weak: 'weak supervision on the traced frame, evaluation mode: Dice loss, tp/fp/fn, logits_traced',
  optimizer_ssl: 'one AdamW/AMSGrad step with the SSL settings',
  optimizer_weak: 'one AdamW/AMSGrad step with the weak-supervision settings',
};

function resolveOptions(o: BuildOptions) {
  const r = {
    encoder: o.encoder as EncoderName,
    frames: o.frames,
    period: o.period,
    maskRatio: o.maskRatio ?? DEFAULT_MASK_RATIO,
    mean: o.mean ?? ECHONET_NORMALISATION.mean,
    std: o.std ?? ECHONET_NORMALISATION.std,
    seed: o.seed ?? DEFAULT_SEED,
    widthMult: o.widthMult ?? 1,
    size: o.size ?? FRAME_SIZE,
    tile: o.tile,
    backend: o.backend ?? 'cpu',
    formOverrides: o.formOverrides ?? {},
  };
  if (!(r.maskRatio > 0 && r.maskRatio < 1))
    throw new Error(`mask_ratio must be in (0, 1) (got ${r.maskRatio})`);
  if (!Number.isInteger(r.period) || r.period < 1)
    throw new Error(`period must be a positive integer (got ${r.period})`);
  if (!Number.isInteger(r.seed)) throw new Error(`seed must be an integer (got ${r.seed})`);
  return r;
}

function modelConfig(o: ReturnType<typeof resolveOptions>): ModelConfig {
  return {
    encoder: o.encoder,
    frames: o.frames,
    size: o.size,
    widthMult: o.widthMult,
    mean: o.mean,
    std: o.std,
    tile: o.tile,
    forms: formsFor(o.backend, o.formOverrides),
  };
}

/** model.onnx's metadata_props: what a consumer needs to feed it (and where it came from). */
function modelMetadata(o: ReturnType<typeof resolveOptions>, model: SegModel, version: string) {
  return {
    encoder: o.encoder,
    frames: String(o.frames),
    period: String(o.period),
    mean: JSON.stringify(o.mean),
    std: JSON.stringify(o.std),
    size: String(o.size),
    width_mult: String(o.widthMult),
    ...(model.family === 'superimage' ? { tile: String(model.config.tile) } : {}),
    producer: `unilvseg-onnx ${version}`,
  };
}

/** model.onnx alone (no training graphs), with the given weights (graph layout), as bytes. */
export function inferenceModelBytes(
  opts: Omit<BuildOptions, 'out'>,
  weights: ReadonlyMap<string, Float32Array>,
): Uint8Array {
  const o = resolveOptions({ ...opts, out: '' });
  const model = createModel(modelConfig(o));
  const version = producerVersion();
  const graph = inferenceGraph(model, weights, modelMetadata(o, model, version));
  assertGraphOk(graph);
  return encodeGraph(graph, version);
}

/**
 * Builds, checks and writes model.onnx, the train/eval/optimizer graphs, checkpoint.safetensors and
 * manifest.json.
 */
export async function buildArtifactSet(opts: BuildOptions): Promise<ArtifactSet> {
  const o = resolveOptions(opts);
  const model = createModel(modelConfig(o));
  const dir = resolve(opts.out);
  const files = artifactFiles(dir);

  const trainSsl = sslGraph(model, 'train');
  const specs = trainSsl.specs;
  const weights = initialValues(specs, o.seed);
  const trainable = specs.filter((s) => s.kind === 'param').map((s) => ({ name: s.name, shape: s.shape }));
  const version = producerVersion();
  const graphs: Record<GraphKey, Graph> = {
    model: inferenceGraph(model, weights, modelMetadata(o, model, version)),
    train_ssl: trainSsl.graph,
    eval_ssl: sslGraph(model, 'eval').graph,
    train_weak: weakGraph(model, 'train').graph,
    eval_weak: weakGraph(model, 'eval').graph,
    optimizer_ssl: optimizerGraph(trainable, SSL_OPTIMIZER),
    optimizer_weak: optimizerGraph(trainable, WEAK_OPTIMIZER),
  };
  for (const g of Object.values(graphs)) assertGraphOk(g);
  if (o.backend === 'webgpu') {
    const unsupported = Object.values(graphs).flatMap(webgpuIncompatibilities);
    if (unsupported.length)
      throw new Error(`graphs for WebGPU contain ops it cannot run:\n${unsupported.join('\n')}`);
  }
  const manifest = makeManifest(o, model.family, model.config.tile, specs, graphs, opts.command, version);
  for (const [key, g] of Object.entries(graphs) as [GraphKey, Graph][])
    atomicWriteFile(files[key], encodeGraph(g, version));
  writeCheckpoint(files.checkpoint, manifest, {
    params: weights,
    optimizer: new Map(),
    step: 0,
    epoch: 0,
    metadata: { seed: String(o.seed) },
  });
  atomicWriteFile(files.manifest, formatJson(manifest) + '\n');
  return { dir, manifest, files };
}

function makeManifest(
  o: ReturnType<typeof resolveOptions>,
  family: Manifest['model']['family'],
  tile: number | undefined,
  specs: ParamSpec[],
  graphs: Record<GraphKey, Graph>,
  command: string | undefined,
  version: string,
): Manifest {
  const paramCount = parameterCount(specs);
  const commandLine =
    command ??
    [
      'unilvseg build-graph',
      `--encoder ${o.encoder}`,
      `--frames ${o.frames}`,
      `--period ${o.period}`,
      `--size ${o.size}`,
      `--width_mult ${o.widthMult}`,
      `--mask_ratio ${o.maskRatio}`,
      `--seed ${o.seed}`,
      `--mean ${o.mean.join(' ')}`,
      `--std ${o.std.join(' ')}`,
      ...(o.tile ? [`--tile ${o.tile}`] : []),
      `--backend ${o.backend}`,
    ].join(' ');
  return {
    format: 'unilvseg-artifact-set',
    formatVersion: 1,
    producer: { name: 'unilvseg-onnx', version },
    opset: OPSET,
    backend: o.backend,
    model: {
      encoder: o.encoder,
      family,
      frames: o.frames,
      period: o.period,
      size: o.size,
      ...(family === 'superimage' ? { tile } : {}),
      widthMult: o.widthMult,
      mean: o.mean,
      std: o.std,
      paramCount,
    },
    ssl: {
      optimizer: SSL_OPTIMIZER,
      lr: DEFAULT_LR,
      stateSuffixes: optimizerStateSuffixes(SSL_OPTIMIZER),
      maskRatio: o.maskRatio,
    },
    weak: {
      optimizer: WEAK_OPTIMIZER,
      lr: DEFAULT_LR,
      stateSuffixes: optimizerStateSuffixes(WEAK_OPTIMIZER),
      milestones: [45, 60],
      gamma: 0.1,
    },
    seed: o.seed,
    conventions: CONVENTIONS,
    params: specs.map((s) => ({
      name: s.name,
      kind: s.kind,
      shape: s.shape,
      upstreamShape: s.upstreamShape,
      permutation: s.permutation,
    })),
    graphs: Object.fromEntries(
      (Object.entries(graphs) as [GraphKey, Graph][]).map(([k, g]) => [
        k,
        describeGraph(g, GRAPH_FILES[k], DESCRIPTIONS[k]),
      ]),
    ) as Record<GraphKey, ReturnType<typeof describeGraph>>,
    checkpoint: CHECKPOINT_FILE,
    build: { command: commandLine, options: { ...o, tile: tile ?? null } },
  };
}
