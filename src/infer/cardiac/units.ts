/**
 * Physical units for LV masks whose pixel size is known (mm per pixel along x and y, which may
 * differ: scanners and exporters do not always keep pixels square). Areas scale by x*y. The method
 * of discs needs square pixels (its discs are circles of the measured width), so a mask with
 * unequal spacing is first resampled, nearest-pixel, onto a square grid of the finer spacing.
 */
import { lvVolumeByDiscs, type MaskConvention } from './volume.js';

export interface Spacing {
  /** mm per pixel along a row (x) and down a column (y). */
  x: number;
  y: number;
}

/** cm^2 of `pixels` pixels. */
export function areaCm2(pixels: number, spacing: Spacing): number {
  return (pixels * spacing.x * spacing.y) / 100;
}

/** `mask` on a grid of square pixels of side min(x, y) mm (nearest pixel). */
export function squarePixelMask(
  mask: Uint8Array,
  height: number,
  width: number,
  spacing: Spacing,
): { mask: Uint8Array; height: number; width: number; pixelMm: number } {
  const side = Math.min(spacing.x, spacing.y);
  if (spacing.x === spacing.y) return { mask, height, width, pixelMm: side };
  const w2 = Math.max(1, Math.round((width * spacing.x) / side));
  const h2 = Math.max(1, Math.round((height * spacing.y) / side));
  const out = new Uint8Array(w2 * h2);
  const col = Int32Array.from({ length: w2 }, (_, c) =>
    Math.min(width - 1, Math.floor(((c + 0.5) * width) / w2)),
  );
  for (let r = 0; r < h2; r++) {
    const src = Math.min(height - 1, Math.floor(((r + 0.5) * height) / h2)) * width;
    for (let c = 0; c < w2; c++) out[r * w2 + c] = mask[src + col[c]];
  }
  return { mask: out, height: h2, width: w2, pixelMm: side };
}

/**
 * Method-of-discs volume in mL (= cm^3). `tracingPixel`: pixels of `mask` per pixel of the grid the
 * prediction was made on (see measureDiscs), converted here to the square grid's pixels.
 */
export function discVolumeMl(
  mask: Uint8Array,
  height: number,
  width: number,
  spacing: Spacing,
  convention: MaskConvention = 'tracing',
  tracingPixel = 1,
): number {
  const sq = squarePixelMask(mask, height, width, spacing);
  const tp = (tracingPixel * Math.sqrt(spacing.x * spacing.y)) / sq.pixelMm;
  return (lvVolumeByDiscs(sq.mask, sq.height, sq.width, convention, tp) * sq.pixelMm ** 3) / 1000;
}
