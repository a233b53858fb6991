import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { atomicWriteFile } from '../util/atomic.js';

/** A binary mask: 1 inside, 0 outside, row-major [height, width]. */
export interface BinaryMask {
  mask: Uint8Array;
  height: number;
  width: number;
}

/** Video stem as upstream names prediction files: the file name up to its first '.'. */
export function videoStem(fileName: string): string {
  const dot = fileName.indexOf('.');
  return dot < 0 ? fileName : fileName.slice(0, dot);
}

/**
 * Upstream file name of a test-set prediction PNG: `<stem>_<frame>_<tag>.png`.
 *
 * The tags are swapped relative to their meaning, exactly as upstream writes and reads them:
 * the ED ("large", end-diastolic) frame is tagged `esv` and the ES ("small") frame `edv`.
 * Keeping the swap makes our predictions interchangeable with upstream's.
 */
export function maskPngName(stem: string, frame: number, which: 'ed' | 'es'): string {
  const tag = which === 'ed' ? 'esv' : 'edv';
  return `${stem}_${frame}_${tag}.png`;
}

/** Encode a mask as an 8-bit grayscale PNG (255 where mask > 0, else 0). */
export function encodeMaskPng(mask: Uint8Array, height: number, width: number): Buffer {
  if (mask.length !== height * width) {
    throw new Error(`mask has ${mask.length} values, expected ${height}x${width}`);
  }
  const gray = Buffer.alloc(height * width);
  for (let i = 0; i < gray.length; i++) gray[i] = mask[i] > 0 ? 255 : 0;
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8 });
  png.data = gray;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}

/** Write a mask PNG atomically (readers never see a half-written file). */
export function writeMaskPng(path: string, mask: Uint8Array, height: number, width: number): void {
  atomicWriteFile(path, encodeMaskPng(mask, height, width));
}

/**
 * Decode a mask PNG and binarise it the way upstream's evaluator does: OpenCV's grayscale
 * conversion (fixed-point 0.299 R + 0.587 G + 0.114 B, alpha ignored) and then value > 0.
 * For gray PNGs that is simply "pixel > 0".
 */
export function decodeMaskPng(data: Buffer): BinaryMask {
  const png = PNG.sync.read(data);
  const { width, height } = png;
  const mask = new Uint8Array(width * height);
  const rgba = png.data;
  for (let i = 0; i < mask.length; i++) {
    const r = rgba[4 * i];
    const g = rgba[4 * i + 1];
    const b = rgba[4 * i + 2];
    // OpenCV: gray = (4899 R + 9617 G + 1868 B + 8192) >> 14, so gray > 0 iff the sum >= 8192.
    mask[i] = 4899 * r + 9617 * g + 1868 * b >= 8192 ? 1 : 0;
  }
  return { mask, height, width };
}

export function readMaskPng(path: string): BinaryMask {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read mask PNG ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return decodeMaskPng(data);
  } catch (e) {
    throw new Error(`cannot decode mask PNG ${path}: ${(e as Error).message}`, { cause: e });
  }
}
