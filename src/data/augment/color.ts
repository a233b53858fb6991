/**
 * OpenCV's 8-bit colour conversions used by the augmentations (RGB->GRAY, RGB<->HSV with
 * H in [0,180), RGB<->CIE Lab with L scaled to [0,255]). GRAY and RGB->HSV follow OpenCV 4's
 * fixed-point arithmetic exactly, HSV->RGB its float32 arithmetic; Lab uses the float formulas
 * OpenCV's 8-bit tables are built from, so values may differ from OpenCV by a level or two.
 */

/** RGB->GRAY as `cv2.cvtColor(..., COLOR_RGB2GRAY)` on uint8 (OpenCV 4's weights in 1/32768). */
export function grayOf(r: number, g: number, b: number): number {
  return (r * 9798 + g * 19235 + b * 3735 + 16384) >> 15;
}

/** Round half to even and clamp to [0,255], like OpenCV's `saturate_cast<uchar>(float)`. */
export function sat8(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

const HSV_SHIFT = 12;
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HDIV[i] = Math.round((180 << HSV_SHIFT) / (6 * i));
}

/** RGB->HSV (OpenCV `RGB2HSV_b`); writes [h, s, v] into `out`. */
export function rgbToHsv(r: number, g: number, b: number, out: Int32Array): void {
  const v = Math.max(r, g, b);
  const diff = v - Math.min(r, g, b);
  const half = 1 << (HSV_SHIFT - 1);
  const s = (diff * SDIV[v] + half) >> HSV_SHIFT;
  let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
  h = (h * HDIV[diff] + half) >> HSV_SHIFT;
  if (h < 0) h += 180;
  out[0] = h;
  out[1] = s;
  out[2] = v;
}

// Which of [v, v(1-s), v(1-sf), v(1-s(1-f))] goes to b, g, r in each hue sector (OpenCV).
const SECTOR = Uint8Array.of(1, 3, 0, 1, 0, 2, 3, 0, 1, 0, 2, 1, 0, 1, 3, 2, 1, 0);
const TAB4 = new Float32Array(4); // storing rounds to float32, as OpenCV's float registers

const f32 = Math.fround;
const INV255 = f32(1 / 255);
const HSCALE = f32(6 / 180);
const ONE_SIXTH = f32(1 / 6);

/**
 * HSV->RGB as OpenCV 4's vectorised `HSV2RGB_b`: float32 math, results TRUNCATED to uint8.
 * OpenCV converts row by row and its scalar tail (the last width mod 4*SIMD-lanes pixels of each
 * row, CPU dependent) rounds instead, so those pixels may differ from it by one level.
 */
export function hsvToRgb(
  h8: number,
  s8: number,
  v8: number,
  out: Uint8Array | Uint8ClampedArray,
  at: number,
): void {
  const s = f32(s8 * INV255);
  const v = f32(v8 * INV255);
  let h = f32(h8 * HSCALE);
  const pre = Math.trunc(h);
  h = f32(h - pre);
  const sector = pre - Math.trunc(f32(pre * ONE_SIXTH)) * 6;
  const tab = TAB4;
  tab[0] = v;
  tab[1] = v * f32(1 - s);
  tab[2] = v * f32(1 - f32(s * h));
  tab[3] = v * f32(1 - f32(s * f32(1 - h)));
  const k = 3 * sector;
  out[at + 2] = Math.min(255, Math.trunc(f32(tab[SECTOR[k]] * 255)));
  out[at + 1] = Math.min(255, Math.trunc(f32(tab[SECTOR[k + 1]] * 255)));
  out[at] = Math.min(255, Math.trunc(f32(tab[SECTOR[k + 2]] * 255)));
}

const LINEAR = new Float64Array(256); // sRGB uint8 -> linear
for (let i = 0; i < 256; i++) {
  const c = i / 255;
  LINEAR[i] = c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}
const XN = 0.950456;
const ZN = 1.088754;
const labF = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const labFinv = (t: number) => (t > 0.206893 ? t * t * t : (t - 16 / 116) / 7.787);
const gammaOut = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055);

/** RGB->Lab, 8-bit encoding (L*255/100, a+128, b+128), into `out`. */
export function rgbToLab(r: number, g: number, b: number, out: Int32Array): void {
  const R = LINEAR[r],
    G = LINEAR[g],
    B = LINEAR[b];
  const X = (0.412453 * R + 0.35758 * G + 0.180423 * B) / XN;
  const Y = 0.212671 * R + 0.71516 * G + 0.072169 * B;
  const Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / ZN;
  const fy = labF(Y);
  const L = Y > 0.008856 ? 116 * fy - 16 : 903.3 * Y;
  out[0] = sat8((L * 255) / 100);
  out[1] = sat8(500 * (labF(X) - fy) + 128);
  out[2] = sat8(200 * (fy - labF(Z)) + 128);
}

/** Lab (8-bit encoding) -> RGB into `out` at `at`. */
export function labToRgb(l8: number, a8: number, b8: number, out: Uint8Array, at: number): void {
  const L = (l8 * 100) / 255;
  let Y: number;
  let fy: number;
  if (L <= 903.3 * 0.008856) {
    Y = L / 903.3;
    fy = 7.787 * Y + 16 / 116;
  } else {
    fy = (L + 16) / 116;
    Y = fy * fy * fy;
  }
  const X = labFinv(fy + (a8 - 128) / 500) * XN;
  const Z = labFinv(fy - (b8 - 128) / 200) * ZN;
  out[at] = sat8(gammaOut(3.240479 * X - 1.53715 * Y - 0.498535 * Z) * 255);
  out[at + 1] = sat8(gammaOut(-0.969256 * X + 1.875991 * Y + 0.041556 * Z) * 255);
  out[at + 2] = sat8(gammaOut(0.055648 * X - 0.204043 * Y + 1.057311 * Z) * 255);
}

/**
 * Tables for gray pixels (a = b = 128): L of a gray level, and the RGB of an L with a = b = 128
 * (the three channels may differ by one level, as the matrices do not invert exactly).
 */
export const GRAY_TO_L = new Uint8Array(256);
export const L_TO_RGB = new Uint8Array(256 * 3);
{
  const lab = new Int32Array(3);
  for (let i = 0; i < 256; i++) {
    rgbToLab(i, i, i, lab);
    GRAY_TO_L[i] = lab[0];
    labToRgb(i, 128, 128, L_TO_RGB, 3 * i);
  }
}
