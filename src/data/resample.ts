/**
 * Resampling a rectangle of an interleaved image [H, W, C] to another size: area averaging along
 * an axis that shrinks, bilinear along one that grows (what ffmpeg's "area" and "bilinear" scalers
 * do). The rectangle is in source pixel units and may reach past the image: what lies outside
 * reads as zero (black padding), so a square crop of a wide frame is padded, never stretched.
 */

/** x, y: top-left corner (pixel edges, so the whole image is {0, 0, W, H}); w, h: size. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Taps {
  /** For output index o: taps start[o] .. start[o+1]-1 in index/weight. */
  start: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

/** Source taps of each of `outN` samples spanning [offset, offset + span) of an axis of `n` pixels. */
function axisTaps(n: number, offset: number, span: number, outN: number): Taps {
  const scale = outN / span; // output pixels per source pixel
  const start = new Int32Array(outN + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < outN; o++) {
    start[o] = index.length;
    if (scale <= 1) {
      // Area: the output pixel covers [a, b) of the source; each source pixel its overlap.
      const a = offset + o / scale;
      const b = offset + (o + 1) / scale;
      for (let i = Math.floor(a); i < Math.ceil(b); i++) {
        const w = (Math.min(b, i + 1) - Math.max(a, i)) * scale;
        if (w > 0 && i >= 0 && i < n) {
          index.push(i);
          weight.push(w);
        }
      }
    } else {
      // Bilinear between the two nearest pixel centres; clamped at the image's own edge, zero
      // for output pixels whose centre lies outside the image.
      const c = offset + (o + 0.5) / scale - 0.5;
      if (c >= -0.5 && c <= n - 0.5) {
        const i0 = Math.floor(c);
        const f = c - i0;
        index.push(Math.min(n - 1, Math.max(0, i0)), Math.min(n - 1, Math.max(0, i0 + 1)));
        weight.push(1 - f, f);
      }
    }
  }
  start[outN] = index.length;
  return { start, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/**
 * `rect` of `src` ([height, width, channels]) resampled to [outH, outW, channels], separably
 * (rows first, then columns). Uint8 output is rounded; Float32 output is not.
 */
export function resampleRect<T extends Uint8Array | Float32Array>(
  src: T,
  height: number,
  width: number,
  channels: number,
  rect: Rect,
  outH: number,
  outW: number,
  out?: T,
): T {
  if (src.length !== height * width * channels)
    throw new Error(`image holds ${src.length} values, expected ${height}x${width}x${channels}`);
  if (!(rect.w > 0 && rect.h > 0)) throw new Error(`empty rectangle ${rect.w}x${rect.h}`);
  const dst = out ?? (new (src.constructor as { new (n: number): T })(outH * outW * channels) as T);
  const xs = axisTaps(width, rect.x, rect.w, outW);
  const ys = axisTaps(height, rect.y, rect.h, outH);
  const round = dst instanceof Uint8Array;
  // Horizontal pass over only the source rows some output row reads.
  const rowsUsed = new Int32Array(height).fill(-1);
  let used = 0;
  for (const r of ys.index) if (rowsUsed[r] < 0) rowsUsed[r] = used++;
  const tmp = new Float32Array(used * outW * channels);
  for (let r = 0; r < height; r++) {
    const slot = rowsUsed[r];
    if (slot < 0) continue;
    const srcRow = r * width * channels;
    const tmpRow = slot * outW * channels;
    for (let o = 0; o < outW; o++)
      for (let t = xs.start[o]; t < xs.start[o + 1]; t++) {
        const s = srcRow + xs.index[t] * channels;
        const d = tmpRow + o * channels;
        const w = xs.weight[t];
        for (let k = 0; k < channels; k++) tmp[d + k] += w * src[s + k];
      }
  }
  const acc = new Float32Array(outW * channels);
  for (let o = 0; o < outH; o++) {
    acc.fill(0);
    for (let t = ys.start[o]; t < ys.start[o + 1]; t++) {
      const row = rowsUsed[ys.index[t]] * outW * channels;
      const w = ys.weight[t];
      for (let j = 0; j < acc.length; j++) acc[j] += w * tmp[row + j];
    }
    const base = o * outW * channels;
    if (round)
      for (let j = 0; j < acc.length; j++) dst[base + j] = Math.min(255, Math.max(0, Math.round(acc[j])));
    else dst.set(acc, base);
  }
  return dst;
}
