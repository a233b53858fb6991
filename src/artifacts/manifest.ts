// manifest.json of an artifact set: what each graph takes and returns, the parameter list with
// both layouts, the hyper-parameters, and how the set was built.
import type { Backend } from '../onnx/forms.js';
import type { ParamKind } from '../../graphs/layers.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DType } from '../onnx/dtype.js';
import type { Graph, Shape } from '../onnx/ir.js';
import type { OptimizerConfig } from '../optim/index.js';

export const GRAPH_FILES = {
  model: 'model.onnx',
  train_ssl: 'train_ssl.onnx',
  eval_ssl: 'eval_ssl.onnx',
  train_weak: 'train_weak.onnx',
  eval_weak: 'eval_weak.onnx',
  optimizer_ssl: 'optimizer_ssl.onnx',
  optimizer_weak: 'optimizer_weak.onnx',
} as const;
export type GraphKey = keyof typeof GRAPH_FILES;
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const MANIFEST_FILE = 'manifest.json';

export interface GraphIO {
  name: string;
  dtype: DType;
  shape: Shape;
}

export interface GraphEntry {
  file: string;
  description: string;
  inputs: GraphIO[];
  outputs: GraphIO[];
}

export interface ManifestParam {
  name: string;
  /** 'param': trained (gradient + optimizer state); 'buffer': BatchNorm running statistic; 'unused': in the state dict, in no graph (graphs/layers.ts) */
  kind: ParamKind;
  /** shape of the graph input / model.onnx initializer */
  shape: number[];
  /** shape in the upstream PyTorch state dict and in checkpoint.safetensors */
  upstreamShape: number[];
  /** graph tensor = upstream tensor transposed by this permutation */
  permutation: number[];
}

export interface ModelDescription {
  encoder: string;
  family: '3d' | 'superimage';
  frames: number;
  period: number;
  size: number;
  /** super-image tile side (SI models only) */
  tile?: number;
  widthMult: number;
  mean: number[];
  std: number[];
  paramCount: number;
}

export interface TrainingDescription {
  optimizer: OptimizerConfig;
  lr: number;
  /** Adam-style state tensors per parameter: `<param>.<suffix>` */
  stateSuffixes: string[];
  /** MultiStepLR per epoch (weak supervision only) */
  milestones?: number[];
  gamma?: number;
}

export interface Manifest {
  format: 'unilvseg-artifact-set';
  formatVersion: 1;
  producer: { name: string; version: string };
  opset: number;
  /** whose graph forms the graphs use (src/onnx/forms.ts); sets written before it existed are 'cpu' */
  backend?: Backend;
  model: ModelDescription;
  ssl: TrainingDescription & { maskRatio: number };
  weak: TrainingDescription;
  seed: number;
  conventions: Record<string, string>;
  params: ManifestParam[];
  graphs: Record<GraphKey, GraphEntry>;
  checkpoint: string;
  build: { command: string; options: Record<string, unknown> };
}

export function describeGraph(g: Graph, file: string, description: string): GraphEntry {
  const io = (v: GraphIO): GraphIO => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] });
  return { file, description, inputs: g.inputs.map(io), outputs: g.outputs.map(io) };
}

/** The conventions a reader needs to use the files without our code. */
export const CONVENTIONS: Record<string, string> = {
  frames:
    'uint8 [N, T, H, W, 3] RGB, decoded frames; normalisation (x/255 - mean)/std happens inside every graph',
  logits: 'float32 [N, T, H, W], one logit per pixel; the LV is logit > 0 (sigmoid > 0.5)',
  graphLayout:
    '3D models compute on [N, C, T, H, W]: Conv3d kernels are [Cout, Cin, kT, kH, kW] and ConvTranspose3d kernels [Cin, Cout, kT, kH, kW] in the graphs',
  checkpointLayout:
    'checkpoint.safetensors holds upstream names (no Lightning "model." prefix) in upstream PyTorch layouts: Conv3d [Cout, Cin, kH, kW, kT], ConvTranspose3d [Cin, Cout, kH, kW, kT]; graph = upstream.permute(permutation) per params[]; model.load_state_dict() accepts it after dropping the optimizer-state keys',
  optimizerState:
    'optimizer state under "<param>.<suffix>" in the same layout as the parameter; step and epoch in the safetensors metadata',
  batchNorm:
    'train graphs use batch statistics and output "<bn>.running_mean.new"/"<bn>.running_var.new" (PyTorch momentum 0.1, unbiased variance); model.onnx and eval graphs use the running statistics; num_batches_tracked is written to the checkpoint as the step count',
  trainStep:
    'one step = train_<task>.onnx (loss, metrics, <param>.grad) then optimizer_<task>.onnx (inputs: params, <param>.grad, <param>.<state>, lr, step (1-based); outputs <param>.new, <param>.<state>.new)',
  superImage:
    'SI models pad every frame bottom/right with raw 0 to tile x tile before normalising, tile the T frames row-major into a sqrt(T) grid, and cut the logits back to [N, T, H, W]; their SSL loss covers the whole super-image including the pads (upstream)',
};

/** JSON with 2-space indentation where every array or object that fits in `width` chars stays on one line. */
export function formatJson(value: unknown, width = 120, indent = ''): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== 'object' || flat.length + indent.length <= width) return flat;
  const inner = indent + '  ';
  if (Array.isArray(value))
    return `[\n${value.map((v) => inner + formatJson(v, width, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, width, inner)}`).join(',\n')}\n${indent}}`;
}

let cachedVersion: string | null = null;

/** This package's version (from the nearest package.json above this file). */
export function producerVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (!existsSync(p)) continue;
    const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'unilvseg-onnx' && pkg.version) return (cachedVersion = pkg.version);
  }
  return (cachedVersion = '0.0.0');
}
