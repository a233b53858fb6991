/**
 * The geometric part of the augmentation (docs/upstream.md#augmentation steps 3-5) as ONE precomputed map per
 * clip: Rotate(angle) about ((W-1)/2, (H-1)/2) with zero border, PadIfNeeded to paddedSide(H) x paddedSide(W)
 * (centred, zeros), RandomCrop back to H x W at (cropY, cropX). Output pixel (y, x) reads the rotated image at (y +
 * cropY - padTop, x + cropX - padLeft), zero where that lies in the padding, and the rotated image reads the
 * source through the inverse rotation. Building the map once and applying it to all T frames (and the mask)
 * keeps the per-frame cost at 4 multiply-adds a sample.
 */
export interface WarpMap {
  height: number;
  width: number;
  /** Per output pixel: the 4 bilinear taps' source pixel indices (clamped in range) and weights. */
  taps: Int32Array;
  weights: Float32Array;
  /** Per output pixel: nearest source pixel for the mask, or -1 for zero fill. */
  nearest: Int32Array;
}

/** Round half to even, as OpenCV's cvRound / saturate_cast<int>(double). */
function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

/**
 * PadIfNeeded's side for a frame side: upstream pads its 112-pixel frames to 124 (6 pixels a side).
 * Frames of another size (a model trained at 64 or 32 pixels, fine-tuned on frames at its size)
 * keep that share of the side, 64 -> 70 and 32 -> 36, so the random crop moves the picture by the
 * same fraction of the frame; an absolute 124 would shift a 32-pixel frame by up to 46 pixels,
 * mostly off the frame.
 */
export function paddedSide(side: number): number {
  return side + 2 * Math.round((6 * side) / 112);
}

const AB_BITS = 10; // warpAffine's fixed-point coordinates, 1/1024 pixel
const AB_SCALE = 1 << AB_BITS;
const INTER_BITS = 5; // bilinear sample positions on a 1/32-pixel grid
const TAB = 1 << INTER_BITS;

export function buildWarpMap(
  height: number,
  width: number,
  angleDeg: number,
  cropY: number,
  cropX: number,
): WarpMap {
  const padTop = (paddedSide(height) - height) / 2;
  const padLeft = (paddedSide(width) - width) / 2;
  // cv2.getRotationMatrix2D(centre, angle, 1), then the inverse warpAffine samples the source at
  // (invertAffineTransform), both in double like OpenCV.
  const cx = width / 2 - 0.5,
    cy = height / 2 - 0.5;
  const t = (angleDeg * Math.PI) / 180;
  const al = Math.cos(t),
    be = Math.sin(t);
  const M = [al, be, (1 - al) * cx - be * cy, -be, al, be * cx + (1 - al) * cy];
  let D = M[0] * M[4] - M[1] * M[3];
  D = D !== 0 ? 1 / D : 0;
  const A11 = M[4] * D,
    A22 = M[0] * D,
    A12 = -M[1] * D,
    A21 = -M[3] * D;
  const iM = [A11, A12, -A11 * M[2] - A12 * M[5], A21, A22, -A21 * M[2] - A22 * M[5]];
  const n = height * width;
  const taps = new Int32Array(4 * n);
  const weights = new Float32Array(4 * n);
  const nearest = new Int32Array(n).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      const ry = y + cropY - padTop,
        rx = x + cropX - padLeft;
      if (ry < 0 || ry >= height || rx < 0 || rx >= width) continue; // padding: all weights 0
      // warpAffine's integer source position: row part + column part, each rounded to 1/1024.
      const X = cvRound((iM[1] * ry + iM[2]) * AB_SCALE) + cvRound(iM[0] * rx * AB_SCALE);
      const Y = cvRound((iM[4] * ry + iM[5]) * AB_SCALE) + cvRound(iM[3] * rx * AB_SCALE);
      const nx = (X + AB_SCALE / 2) >> AB_BITS,
        ny = (Y + AB_SCALE / 2) >> AB_BITS;
      if (nx >= 0 && nx < width && ny >= 0 && ny < height) nearest[o] = ny * width + nx;
      const qx = (X + AB_SCALE / TAB / 2) >> (AB_BITS - INTER_BITS),
        qy = (Y + AB_SCALE / TAB / 2) >> (AB_BITS - INTER_BITS);
      const x0 = qx >> INTER_BITS,
        y0 = qy >> INTER_BITS;
      const fx = (qx & (TAB - 1)) / TAB,
        fy = (qy & (TAB - 1)) / TAB;
      const w = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
      const px = [x0, x0 + 1, x0, x0 + 1],
        py = [y0, y0, y0 + 1, y0 + 1];
      for (let k = 0; k < 4; k++) {
        const inside = px[k] >= 0 && px[k] < width && py[k] >= 0 && py[k] < height;
        // Taps outside the image read the zero border: weight 0, any valid index.
        taps[4 * o + k] = inside ? py[k] * width + px[k] : 0;
        weights[4 * o + k] = inside ? w[k] : 0;
      }
    }
  }
  return { height, width, taps, weights, nearest };
}

/**
 * Warp T RGB frames [T, H, W, 3] (bilinear, rounded) into `out` (a new array by default). With
 * `gray` (the caller knows R = G = B everywhere) one channel is computed and copied to the other
 * two: the same result for a third of the work.
 */
export function warpFrames(
  src: Uint8Array,
  T: number,
  m: WarpMap,
  out = new Uint8Array(src.length),
  gray = false,
): Uint8Array {
  const n = m.height * m.width;
  if (gray) {
    const { taps, weights } = m;
    for (let f = 0; f < T; f++) {
      const base = f * n * 3;
      for (let o = 0; o < n; o++) {
        const k = 4 * o;
        const v =
          (weights[k] * src[base + 3 * taps[k]] +
            weights[k + 1] * src[base + 3 * taps[k + 1]] +
            weights[k + 2] * src[base + 3 * taps[k + 2]] +
            weights[k + 3] * src[base + 3 * taps[k + 3]] +
            0.5) |
          0;
        const d = base + 3 * o;
        out[d] = out[d + 1] = out[d + 2] = v;
      }
    }
    return out;
  }
  const { taps, weights } = m;
  for (let f = 0; f < T; f++) {
    const base = f * n * 3;
    for (let o = 0; o < n; o++) {
      const k = 4 * o;
      const w0 = weights[k],
        w1 = weights[k + 1],
        w2 = weights[k + 2],
        w3 = weights[k + 3];
      const i0 = base + 3 * taps[k],
        i1 = base + 3 * taps[k + 1],
        i2 = base + 3 * taps[k + 2],
        i3 = base + 3 * taps[k + 3];
      const d = base + 3 * o;
      for (let c = 0; c < 3; c++) {
        out[d + c] = (w0 * src[i0 + c] + w1 * src[i1 + c] + w2 * src[i2 + c] + w3 * src[i3 + c] + 0.5) | 0;
      }
    }
  }
  return out;
}

/** Warp a mask [H, W] with nearest-neighbour sampling and zero fill. */
export function warpMask<A extends Uint8Array | Float32Array>(src: A, m: WarpMap, out?: A): A {
  const dst = out ?? new (src.constructor as new (n: number) => A)(src.length);
  const { nearest } = m;
  for (let o = 0; o < nearest.length; o++) dst[o] = nearest[o] < 0 ? 0 : src[nearest[o]];
  return dst;
}
