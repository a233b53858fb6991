// checkpoint.safetensors <-> training state. The file holds upstream names and layouts so that a
// PyTorch user can load it; our graphs use their own layout, so kernels are permuted on the way in
// and out (manifest params[].permutation: graph = upstream.permute(permutation)).
import {
  readSafetensors,
  writeSafetensors,
  type SafeTensor,
  type SafetensorsContent,
} from './safetensors.js';
import { producerVersion, type Manifest, type ManifestParam } from './manifest.js';

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

const toUpstream = (p: ManifestParam, data: Float32Array) =>
  permuteArray(data, p.shape, inversePermutation(p.permutation));
const toGraph = (p: ManifestParam, data: Float32Array) => permuteArray(data, p.upstreamShape, p.permutation);

function stateSuffixes(manifest: Manifest): string[] {
  return [...new Set([...manifest.ssl.stateSuffixes, ...manifest.weak.stateSuffixes])];
}

/** The safetensors content for a training state: upstream names and layouts, state after its parameter. */
export function checkpointFromParams(manifest: Manifest, state: TrainingState): SafetensorsContent {
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
    producer: `unilvseg-onnx ${producerVersion()}`,
    encoder: manifest.model.encoder,
    step: String(state.step),
    epoch: String(state.epoch),
  };
  return { tensors, metadata };
}

/**
 * A training state from safetensors content in upstream names and layouts. Accepts a Lightning
 * state dict's `model.` prefix; missing parameters, wrong shapes and unknown tensors are errors.
 */
export function paramsFromCheckpoint(manifest: Manifest, content: SafetensorsContent): TrainingState {
  const prefixed = [...content.tensors.keys()].every((k) => k.startsWith('model.'));
  const tensors = new Map([...content.tensors].map(([k, v]) => [prefixed ? k.slice('model.'.length) : k, v]));
  const used = new Set<string>();
  const take = (name: string, p: ManifestParam): Float32Array => {
    const t = tensors.get(name)!;
    if (t.dtype !== 'F32') throw new Error(`checkpoint: ${name} is ${t.dtype}, expected F32`);
    if (t.shape.join(',') !== p.upstreamShape.join(','))
      throw new Error(
        `checkpoint: ${name} has shape [${t.shape}], this model (${manifest.model.encoder}, width ${manifest.model.widthMult}) needs [${p.upstreamShape}]`,
      );
    used.add(name);
    return toGraph(p, t.data as Float32Array);
  };
  const missing = manifest.params.filter((p) => !tensors.has(p.name)).map((p) => p.name);
  if (missing.length)
    throw new Error(
      `checkpoint: missing ${missing.length} parameters of ${manifest.model.encoder}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
    );
  const params = new Map<string, Float32Array>();
  const optimizer = new Map<string, Float32Array>();
  for (const p of manifest.params) {
    params.set(p.name, take(p.name, p));
    for (const suffix of stateSuffixes(manifest)) {
      const key = `${p.name}.${suffix}`;
      if (tensors.has(key)) optimizer.set(key, take(key, p));
    }
  }
  const unknown = [...tensors.keys()].filter((k) => !used.has(k) && !k.endsWith('.num_batches_tracked'));
  if (unknown.length)
    throw new Error(
      `checkpoint: ${unknown.length} tensors are not part of ${manifest.model.encoder}: ${unknown.slice(0, 5).join(', ')}`,
    );
  const { step = '0', epoch = '0', ...rest } = content.metadata;
  const metadata = Object.fromEntries(
    Object.entries(rest).filter(([k]) => !['format', 'producer', 'encoder'].includes(k)),
  );
  return { params, optimizer, step: Number(step), epoch: Number(epoch), metadata };
}

export function writeCheckpoint(path: string, manifest: Manifest, state: TrainingState): void {
  const c = checkpointFromParams(manifest, state);
  writeSafetensors(path, c.tensors, c.metadata);
}

export function readCheckpoint(path: string, manifest: Manifest): TrainingState {
  return paramsFromCheckpoint(manifest, readSafetensors(path));
}
