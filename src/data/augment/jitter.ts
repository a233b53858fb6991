import { grayOf, hsvToRgb, rgbToHsv, sat8 } from './color.js';

/**
 * albumentations 1.2.1 ColorJitter on uint8 RGB (torchvision-style ops). The factors are drawn
 * once per clip; each frame is adjusted on its own (contrast uses each frame's own mean gray).
 */
export interface JitterParams {
  brightness: number; // U[0.8, 1.2]
  contrast: number; // U[0.8, 1.2]
  saturation: number; // U[0.8, 1.2]
  hue: number; // U[-0.2, 0.2]
  /** Application order of the ops: permutation of 0 brightness, 1 contrast, 2 saturation, 3 hue. */
  order: number[];
}

function applyLut(px: Uint8Array, lut: Uint8Array): void {
  for (let i = 0; i < px.length; i++) px[i] = lut[px[i]];
}

/** `lut = clip(arange(256) * f + add, 0, 255).astype(uint8)`: numpy's cast truncates. */
function linearLut(f: number, add: number, lut: Uint8Array): Uint8Array {
  for (let i = 0; i < 256; i++) lut[i] = Math.min(255, Math.max(0, i * f + add));
  return lut;
}

function meanGray(px: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < px.length; i += 3) sum += grayOf(px[i], px[i + 1], px[i + 2]);
  return sum / (px.length / 3);
}

/** `addWeighted(img, s, gray3, 1-s)`; a gray pixel is its own gray, hence left alone. */
function saturate(px: Uint8Array, s: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i],
      g = px[i + 1],
      b = px[i + 2];
    if (r === g && g === b) continue;
    const y = grayOf(r, g, b) * (1 - s);
    px[i] = sat8(r * s + y);
    px[i + 1] = sat8(g * s + y);
    px[i + 2] = sat8(b * s + y);
  }
}

/** Hue shift by 180*h in OpenCV's [0,180) hue; gray pixels (saturation 0) are unchanged. */
function shiftHue(px: Uint8Array, h: number, lut: Uint8Array, hsv: Int32Array): void {
  for (let i = 0; i < 256; i++) {
    const v = (i + 180 * h) % 180;
    lut[i] = Math.trunc(v < 0 ? v + 180 : v); // np.mod is never negative
  }
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i],
      g = px[i + 1],
      b = px[i + 2];
    if (r === g && g === b) continue;
    rgbToHsv(r, g, b, hsv);
    hsvToRgb(lut[hsv[0]], hsv[1], hsv[2], px, i);
  }
}

/**
 * Adjust one frame (a view of [H, W, 3] bytes) in place. A gray frame stays gray under every op
 * (the LUTs treat channels alike; saturation and hue leave gray pixels alone), so for one the
 * saturation and hue passes are skipped outright.
 */
export function colorJitterFrame(
  px: Uint8Array,
  p: JitterParams,
  scratch = new Uint8Array(256),
  gray = false,
): void {
  const hsv = new Int32Array(3);
  for (const op of p.order) {
    if (gray && op >= 2) continue;
    switch (op) {
      case 0:
        if (p.brightness !== 1) applyLut(px, linearLut(p.brightness, 0, scratch));
        break;
      case 1:
        if (p.contrast !== 1) applyLut(px, linearLut(p.contrast, meanGray(px) * (1 - p.contrast), scratch));
        break;
      case 2:
        if (p.saturation !== 1) saturate(px, p.saturation);
        break;
      case 3:
        if (p.hue !== 0) shiftHue(px, p.hue, scratch, hsv);
        break;
    }
  }
}
