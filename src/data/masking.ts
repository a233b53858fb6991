import type { Rng } from '../util/rng.js';

/**
 * Temporal masking for self-supervised pre-training (docs/upstream.md#3d-masking). The masked frames
 * themselves are blacked out inside the ONNX train graph; the data side only says which frames stay visible.
 */

/**
 * Number of masked frames: round_half_up(T * ratio), for the 3D and the super-image pipeline
 * alike. Upstream's super-image SSL dataset masks T - round(T*ratio) frames instead (the ratio
 * silently becomes the KEPT fraction, see
 * docs/upstream.md#our-deliberate-differences); we deliberately do not copy that bug.
 */
export function maskedFrameCount(T: number, ratio: number): number {
  if (!(ratio > 0 && ratio < 1)) throw new Error(`mask_ratio must be in (0, 1) exclusive, got ${ratio}`);
  if (!(Number.isInteger(T) && T >= 1)) throw new Error(`frames must be a positive integer, got ${T}`);
  return Math.floor(T * ratio + 0.5);
}

/** Visibility of each clip position: 1 visible, 0 masked; the masked set is uniform. */
export function sampleKeep(rng: Rng, T: number, ratio: number): Float32Array {
  const keep = new Float32Array(T).fill(1);
  for (const k of rng.choose(T, maskedFrameCount(T, ratio))) keep[k] = 0;
  return keep;
}
