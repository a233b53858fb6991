import { GRAY_TO_L, L_TO_RGB, labToRgb, rgbToLab, sat8 } from './color.js';

/**
 * Contrast Limited Adaptive Histogram Equalisation as OpenCV's `createCLAHE(clipLimit, (8,8))`
 * on 8-bit images: per-tile 256-bin histograms clipped at max(1, int(clipLimit*tilePixels/256)),
 * the excess redistributed evenly (remainder spread with OpenCV's stride), cumulative LUTs, and
 * bilinear interpolation between the four nearest tiles' LUTs. albumentations applies it to the
 * L channel of Lab (RGB->Lab, CLAHE on L, Lab->RGB), as `claheRgb` does.
 */
const BINS = 256;
const f32 = Math.fround;

interface Interp {
  /** Per column: left/right tile index and weight of the right tile; per row likewise. */
  x1: Int32Array;
  x2: Int32Array;
  xa: Float32Array;
  y1: Int32Array;
  y2: Int32Array;
  ya: Float32Array;
}
const interpCache = new Map<string, Interp>();

function axis(n: number, tiles: number): [Int32Array, Int32Array, Float32Array] {
  const t1 = new Int32Array(n),
    t2 = new Int32Array(n),
    a = new Float32Array(n);
  const inv = Math.fround(1 / (n / tiles));
  for (let i = 0; i < n; i++) {
    const f = Math.fround(Math.fround(i * inv) - 0.5);
    const lo = Math.floor(f);
    a[i] = f32(f - lo);
    t1[i] = Math.max(lo, 0);
    t2[i] = Math.min(lo + 1, tiles - 1);
  }
  return [t1, t2, a];
}

function interpolation(h: number, w: number, tilesY: number, tilesX: number): Interp {
  const key = `${h}x${w}/${tilesY}x${tilesX}`;
  let it = interpCache.get(key);
  if (!it) {
    const [x1, x2, xa] = axis(w, tilesX);
    const [y1, y2, ya] = axis(h, tilesY);
    it = { x1, x2, xa, y1, y2, ya };
    interpCache.set(key, it);
  }
  return it;
}

/** CLAHE of one 8-bit plane [h, w] into `dst` (may be `src`). */
export function clahePlane(
  src: Uint8Array,
  dst: Uint8Array,
  h: number,
  w: number,
  clipLimit: number,
  tilesY = 8,
  tilesX = 8,
): void {
  if (h % tilesY !== 0 || w % tilesX !== 0) {
    // OpenCV pads such images by reflection; frames here are always 112x112.
    throw new Error(`CLAHE: a ${w}x${h} image does not split into ${tilesX}x${tilesY} equal tiles`);
  }
  const th = h / tilesY,
    tw = w / tilesX,
    tilePixels = th * tw;
  const limit = clipLimit > 0 ? Math.max(1, Math.trunc((clipLimit * tilePixels) / BINS)) : Infinity;
  const lutScale = Math.fround((BINS - 1) / tilePixels);
  const luts = new Uint8Array(tilesY * tilesX * BINS);
  const hist = new Int32Array(BINS);
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      hist.fill(0);
      for (let y = ty * th; y < (ty + 1) * th; y++) {
        for (let x = tx * tw, i = y * w + x; x < (tx + 1) * tw; x++, i++) hist[src[i]]++;
      }
      let clipped = 0;
      for (let b = 0; b < BINS; b++) {
        if (hist[b] > limit) {
          clipped += hist[b] - limit;
          hist[b] = limit;
        }
      }
      const batch = Math.trunc(clipped / BINS);
      let residual = clipped - batch * BINS;
      for (let b = 0; b < BINS; b++) hist[b] += batch;
      const step = Math.max(Math.trunc(BINS / Math.max(residual, 1)), 1);
      for (let b = 0; b < BINS && residual > 0; b += step, residual--) hist[b]++;
      const base = (ty * tilesX + tx) * BINS;
      let sum = 0;
      for (let b = 0; b < BINS; b++) {
        sum += hist[b];
        luts[base + b] = sat8(f32(sum * lutScale));
      }
    }
  }
  const it = interpolation(h, w, tilesY, tilesX);
  for (let y = 0; y < h; y++) {
    const r1 = it.y1[y] * tilesX * BINS,
      r2 = it.y2[y] * tilesX * BINS;
    const ya = it.ya[y],
      ya1 = f32(1 - ya);
    for (let x = 0, i = y * w; x < w; x++, i++) {
      const v = src[i];
      const c1 = it.x1[x] * BINS + v,
        c2 = it.x2[x] * BINS + v;
      const xa = it.xa[x],
        xa1 = f32(1 - xa);
      // float32 at every step, as OpenCV computes it.
      const top = f32(f32(luts[r1 + c1] * xa1) + f32(luts[r1 + c2] * xa));
      const bottom = f32(f32(luts[r2 + c1] * xa1) + f32(luts[r2 + c2] * xa));
      dst[i] = sat8(f32(f32(top * ya1) + f32(bottom * ya)));
    }
  }
}

/** Whether every pixel of an RGB buffer has R = G = B. */
export function isGray(px: Uint8Array): boolean {
  for (let o = 0; o < px.length; o += 3) if (px[o] !== px[o + 1] || px[o] !== px[o + 2]) return false;
  return true;
}

/**
 * CLAHE on the L channel of one RGB frame [h, w, 3], in place. Gray frames (all of EchoNet) go
 * through exact tables (L of a gray level; RGB of an L with a = b = 128) instead of the float Lab
 * formulas; the result is the same.
 */
export function claheRgb(
  px: Uint8Array,
  h: number,
  w: number,
  clipLimit: number,
  L = new Uint8Array(h * w),
): void {
  const n = h * w;
  if (isGray(px)) {
    for (let i = 0, o = 0; i < n; i++, o += 3) L[i] = GRAY_TO_L[px[o]];
    clahePlane(L, L, h, w, clipLimit);
    for (let i = 0, o = 0; i < n; i++, o += 3) {
      const t = 3 * L[i];
      px[o] = L_TO_RGB[t];
      px[o + 1] = L_TO_RGB[t + 1];
      px[o + 2] = L_TO_RGB[t + 2];
    }
    return;
  }
  const lab = new Int32Array(3);
  const ab = new Uint8Array(2 * n);
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    rgbToLab(px[o], px[o + 1], px[o + 2], lab);
    L[i] = lab[0];
    ab[2 * i] = lab[1];
    ab[2 * i + 1] = lab[2];
  }
  clahePlane(L, L, h, w, clipLimit);
  for (let i = 0, o = 0; i < n; i++, o += 3) labToRgb(L[i], ab[2 * i], ab[2 * i + 1], px, o);
}
