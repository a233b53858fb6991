// Training state <-> checkpoint content in upstream names and layouts, without files: browser-safe
// (the viewer downloads the checkpoint of weights it fine-tuned). checkpoint.ts adds the files
// and the checks of weights read back.
import type { Manifest, ManifestParam } from './manifest.js';
import type { SafeTensor, SafetensorsContent } from './safetensors-codec.js';

export interface TrainingState {
  /** every parameter and BatchNorm buffer by name, graph layout */
  params: Map<string, Float32Array>;
  /** optimizer state by `<param>.<suffix>`, graph layout */
  optimizer: Map<string, Float32Array>;
  /** optimizer steps taken */
  step: number;
  epoch: number;
  /** extra string metadata (e.g. best val_dsc); kept through a round trip */
  metadata: Record<string, string>;
}

/** out = x.transpose(perm) for a row-major array x of the given shape. */
export function permuteArray(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  if (perm.every((p, i) => p === i)) return x.slice();
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const stridesInOutOrder = perm.map((p) => inStrides[p]);
  const out = new Float32Array(x.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = x[src];
    // Odometer over the output index, tracking the matching input offset.
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      src += stridesInOutOrder[a];
      if (idx[a] < outShape[a]) break;
      src -= stridesInOutOrder[a] * idx[a];
      idx[a] = 0;
    }
  }
  return out;
}

export function inversePermutation(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const toUpstream = (p: ManifestParam, data: Float32Array) =>
  permuteArray(data, p.shape, inversePermutation(p.permutation));
export const toGraph = (p: ManifestParam, data: Float32Array) =>
  permuteArray(data, p.upstreamShape, p.permutation);

/** What mapping weights onto a model needs from its manifest (a Manifest is one). */
export interface WeightsLayout {
  model: { encoder: string; widthMult: number };
  params: ManifestParam[];
  ssl: { stateSuffixes: string[] };
  weak: { stateSuffixes: string[] };
}

export function stateSuffixes(manifest: WeightsLayout): string[] {
  return [...new Set([...manifest.ssl.stateSuffixes, ...manifest.weak.stateSuffixes])];
}

/**
 * The safetensors content for a training state: upstream names and layouts, state after its
 * parameter. `version`: this package's version for the producer field (the browser passes the
 * version that built the model's set).
 */
export function checkpointFromParams(
  manifest: Pick<Manifest, 'params' | 'model' | 'ssl' | 'weak'>,
  state: TrainingState,
  version: string,
): SafetensorsContent {
  const tensors = new Map<string, SafeTensor>();
  const f32 = (shape: number[], data: Float32Array): SafeTensor => ({ dtype: 'F32', shape, data });
  for (const p of manifest.params) {
    const value = state.params.get(p.name);
    if (!value) throw new Error(`checkpoint: no value for ${p.name}`);
    tensors.set(p.name, f32(p.upstreamShape, toUpstream(p, value)));
    if (p.name.endsWith('.running_var')) {
      // PyTorch's BatchNorm state dict also has the update counter: one update per step.
      const bn = p.name.slice(0, -'.running_var'.length);
      tensors.set(`${bn}.num_batches_tracked`, {
        dtype: 'I64',
        shape: [],
        data: BigInt64Array.of(BigInt(state.step)),
      });
    }
  }
  for (const p of manifest.params) {
    for (const suffix of stateSuffixes(manifest)) {
      const value = state.optimizer.get(`${p.name}.${suffix}`);
      if (value) tensors.set(`${p.name}.${suffix}`, f32(p.upstreamShape, toUpstream(p, value)));
    }
  }
  const metadata: Record<string, string> = {
    ...state.metadata,
    format: 'pt',
    producer: `unilvseg-onnx ${version}`,
    encoder: manifest.model.encoder,
    step: String(state.step),
    epoch: String(state.epoch),
  };
  return { tensors, metadata };
}
