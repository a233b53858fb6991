// Shared by the benchmark and baseline tools.

/** The middle element of the sorted values (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * A fixed uint8 RGB clip [frames, size, size, 3] from a multiplicative hash of the index:
 * ((i * 2654435761) mod 2^32) >> 24. tools/torch-baseline/export_unet3d.py builds the same bytes.
 */
export function syntheticClip(frames: number, size: number): Uint8Array {
  return Uint8Array.from({ length: frames * size * size * 3 }, (_, i) => (i * 2654435761) >>> 24);
}
