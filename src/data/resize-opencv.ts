/**
 * OpenCV's cv2.resize for single-channel uint8 frames, reproduced operation for operation, because
 * upstream's CAMUS preprocessing (docs/upstream.md#camus) shrinks every frame to 112x112 with
 * INTER_AREA and every label map with INTER_NEAREST, and a model scored on those frames should see
 * the same pixels. resample.ts's area filter is the exact overlap average rounded half up; OpenCV
 * differs in small ways that change a grey level here and there:
 *  - non-integer factors: each output pixel's source span is cut into taps, slivers of 1e-3 px or
 *    less are dropped, weights are float32, rows are summed first, then columns, in float32, and
 *    the sum is rounded half to even (cvRound);
 *  - integer factors (448 -> 112): plain sums of k x k blocks times float32(1/k^2), rounded half to
 *    even, except 2x2 blocks, which OpenCV's vector code rounds as (sum + 2) >> 2 (half up);
 *  - nearest: source index floor(dst * (1 / (dsize / ssize))) in double, clamped to the last pixel.
 * Enlarging is not OpenCV's area filter (it switches to a bilinear variant), and CAMUS frames are
 * always larger than 112 pixels, so only shrinking is implemented. Checked against python3-opencv
 * 4.6 (test/fixtures/camus/resize, written by tools/camus-fixtures.py). Browser-safe.
 */

import { roundHalfEven } from '../util/round.js';

const f32 = Math.fround;

/** saturate_cast<uchar>(float): cvRound (ties to even), clamped to 0..255. */
const saturateU8 = (x: number): number => Math.min(255, Math.max(0, roundHalfEven(x)));

interface AreaTap {
  /** Output index, source index, float32 weight. */
  d: number;
  s: number;
  alpha: number;
}

/** OpenCV's computeResizeAreaTab: the taps of an axis of `ssize` pixels shrunk to `dsize`. */
function areaTaps(ssize: number, dsize: number, scale: number): AreaTap[] {
  const taps: AreaTap[] = [];
  for (let dx = 0; dx < dsize; dx++) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, ssize - fsx1);
    let sx1 = Math.ceil(fsx1);
    let sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) taps.push({ d: dx, s: sx1 - 1, alpha: f32((sx1 - fsx1) / cellWidth) });
    for (let sx = sx1; sx < sx2; sx++) taps.push({ d: dx, s: sx, alpha: f32(1 / cellWidth) });
    if (fsx2 - sx2 > 1e-3)
      taps.push({ d: dx, s: sx2, alpha: f32(Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth) });
  }
  return taps;
}

/** The general (non-integer factor) area path: rows through the x taps, then weighted into columns. */
function areaGeneral(
  src: Uint8Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
  scaleX: number,
  scaleY: number,
  dst: Uint8Array,
): void {
  const xtab = areaTaps(w, outW, scaleX);
  const ytab = areaTaps(h, outH, scaleY);
  const buf = new Float32Array(outW);
  const sum = new Float32Array(outW);
  let prev = ytab[0].d;
  for (const { d: dy, s: sy, alpha: beta } of ytab) {
    buf.fill(0);
    const row = sy * w;
    for (const t of xtab) buf[t.d] = f32(buf[t.d] + f32(src[row + t.s] * t.alpha));
    if (dy !== prev) {
      for (let dx = 0; dx < outW; dx++) {
        dst[prev * outW + dx] = saturateU8(sum[dx]);
        sum[dx] = f32(beta * buf[dx]);
      }
      prev = dy;
    } else for (let dx = 0; dx < outW; dx++) sum[dx] = f32(sum[dx] + f32(beta * buf[dx]));
  }
  for (let dx = 0; dx < outW; dx++) dst[prev * outW + dx] = saturateU8(sum[dx]);
}

/** The integer-factor area path (resizeAreaFast): block sums; partial blocks at the edges averaged. */
function areaFast(
  src: Uint8Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
  kx: number,
  ky: number,
  dst: Uint8Array,
): void {
  const area = kx * ky;
  const scale = f32(1 / area);
  const fullCols = Math.floor(w / kx);
  for (let dy = 0; dy < outH; dy++) {
    const sy0 = dy * ky;
    if (sy0 >= h) {
      dst.fill(0, dy * outW, (dy + 1) * outW);
      continue;
    }
    const full = sy0 + ky <= h ? fullCols : 0;
    for (let dx = 0; dx < outW; dx++) {
      const sx0 = dx * kx;
      let s = 0;
      let count = 0;
      for (let y = sy0; y < Math.min(h, sy0 + ky); y++)
        for (let x = sx0; x < Math.min(w, sx0 + kx); x++) {
          s += src[y * w + x];
          count++;
        }
      let v: number;
      if (dx < full) v = kx === 2 && ky === 2 ? (s + 2) >> 2 : saturateU8(f32(s * scale));
      else v = sx0 >= w ? 0 : saturateU8(f32(f32(s) / count));
      dst[dy * outW + dx] = v;
    }
  }
}

/**
 * cv2.resize(frame, (outW, outH), interpolation=cv2.INTER_AREA) of a uint8 [h, w] frame that
 * shrinks (or keeps) both axes.
 */
export function resizeAreaOpenCV(
  src: Uint8Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
  dst: Uint8Array = new Uint8Array(outH * outW),
): Uint8Array {
  if (src.length < h * w) throw new Error(`frame holds ${src.length} values, expected ${h}x${w}`);
  if (outH > h || outW > w)
    throw new Error(
      `INTER_AREA here only shrinks: ${w}x${h} -> ${outW}x${outH} would enlarge (OpenCV then interpolates bilinearly)`,
    );
  const scaleX = 1 / (outW / w);
  const scaleY = 1 / (outH / h);
  const kx = Math.round(scaleX);
  const ky = Math.round(scaleY);
  const eps = 2.220446049250313e-16; // DBL_EPSILON
  if (Math.abs(scaleX - kx) < eps && Math.abs(scaleY - ky) < eps)
    areaFast(src, h, w, outH, outW, kx, ky, dst);
  else areaGeneral(src, h, w, outH, outW, scaleX, scaleY, dst);
  return dst;
}

/** cv2.resize(labels, (outW, outH), interpolation=cv2.INTER_NEAREST) of a uint8 [h, w] map. */
export function resizeNearestOpenCV(
  src: Uint8Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
  dst: Uint8Array = new Uint8Array(outH * outW),
): Uint8Array {
  const ifx = 1 / (outW / w);
  const ify = 1 / (outH / h);
  const xs = Int32Array.from({ length: outW }, (_, x) => Math.min(Math.floor(x * ifx), w - 1));
  for (let y = 0; y < outH; y++) {
    const row = Math.min(Math.floor(y * ify), h - 1) * w;
    for (let x = 0; x < outW; x++) dst[y * outW + x] = src[row + xs[x]];
  }
  return dst;
}
