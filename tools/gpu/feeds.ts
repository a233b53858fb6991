// Deterministic inputs for any graph of an artifact set, shared by the WebGPU tests and the GPU
// check: uint8 frames, a traced frame per sample, 0/1 masks, the set's own initial weights.
import { readCheckpoint, type ArtifactSet } from '../../src/artifacts/index.js';
import type { GraphKey } from '../../src/artifacts/manifest.js';
import { numel } from '../../src/onnx/ir.js';
import { tensor, type Feeds } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

export function graphFeeds(set: ArtifactSet, key: GraphKey, batch: number, seed = 1): Feeds {
  const rng = new Rng(seed);
  const { frames: T } = set.manifest.model;
  const feeds: Feeds = {};
  for (const io of set.manifest.graphs[key].inputs) {
    const dims = io.shape.map((d) => (typeof d === 'number' ? d : batch));
    const n = numel(dims);
    const name = io.name;
    if (io.dtype === 'uint8')
      feeds[name] = tensor(
        'uint8',
        Uint8Array.from({ length: n }, () => rng.int(0, 255)),
        dims,
      );
    else if (io.dtype === 'int64')
      feeds[name] = tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, i) => BigInt((5 * i + 3) % T)),
        dims,
      );
    else if (name === 'trace_mask' || name === 'keep')
      feeds[name] = tensor(
        'float32',
        Float32Array.from({ length: n }, () => (rng.uniform() < 0.4 ? 1 : 0)),
        dims,
      );
    else if (name.startsWith('others_')) feeds[name] = tensor('float32', new Float32Array(n), dims);
    else if (name === 'lr') feeds[name] = tensor('float32', Float32Array.of(1e-3), dims);
    else if (name === 'step') feeds[name] = tensor('float32', Float32Array.of(1), dims);
    else
      feeds[name] = tensor(
        'float32',
        Float32Array.from({ length: n }, () => 0.1 * rng.normal()),
        dims,
      );
  }
  const state = readCheckpoint(set.files.checkpoint, set.manifest);
  for (const [name, values] of state.params)
    if (feeds[name]) feeds[name] = tensor('float32', values, feeds[name].dims);
  return feeds;
}

/** ||a - b|| / ||b||. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / Math.max(s, 1e-30));
}
