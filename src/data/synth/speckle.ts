/**
 * Random fields for the synthetic echo: spatially correlated complex Gaussian speckle and smooth
 * tissue texture.
 */
import type { Rng } from '../../util/rng.js';

function gaussianTaps(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += taps[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** Separable blur with clamped borders; sigmaX along rows, sigmaY along columns. */
export function blur(
  src: Float32Array,
  width: number,
  height: number,
  sigmaX: number,
  sigmaY: number,
): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  blurLines(src, tmp, gaussianTaps(sigmaX), width, height, 1, width);
  blurLines(tmp, out, gaussianTaps(sigmaY), height, width, width, 1);
  return out;
}

/**
 * Convolve `lines` lines of `length` samples (sample stride `step`, line stride `lineStep`).
 * Borders repeat the edge sample; the interior runs without index clamping, as it is hot.
 */
function blurLines(
  src: Float32Array,
  dst: Float32Array,
  taps: Float64Array,
  length: number,
  lines: number,
  step: number,
  lineStep: number,
): void {
  const r = (taps.length - 1) / 2;
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    for (let i = 0; i < length; i++) {
      let s = 0;
      if (i >= r && i < length - r) {
        let at = base + (i - r) * step;
        for (let j = 0; j < taps.length; j++, at += step) s += taps[j] * src[at];
      } else {
        for (let j = -r; j <= r; j++)
          s += taps[j + r] * src[base + Math.min(length - 1, Math.max(0, i + j)) * step];
      }
      dst[base + i * step] = s;
    }
  }
}

/** A complex speckle field (real and imaginary parts) with E|z|^2 = 1 and the given grain. */
export interface ComplexField {
  re: Float32Array;
  im: Float32Array;
}

export function speckleField(
  rng: Rng,
  width: number,
  height: number,
  grainX: number,
  grainY: number,
): ComplexField {
  const part = () => {
    const white = new Float32Array(width * height);
    for (let i = 0; i < white.length; i++) white[i] = rng.normal();
    return blur(white, width, height, grainX, grainY);
  };
  const re = part();
  const im = part();
  let power = 0;
  for (let i = 0; i < re.length; i++) power += re[i] * re[i] + im[i] * im[i];
  const norm = 1 / Math.sqrt(power / re.length);
  for (let i = 0; i < re.length; i++) {
    re[i] *= norm;
    im[i] *= norm;
  }
  return { re, im };
}

/** Smooth texture in [0, 1): bilinear interpolation of a coarse grid of uniform values. */
export function smoothTexture(rng: Rng, width: number, height: number, cells: number): Float32Array {
  const n = cells + 1;
  const grid = Float64Array.from({ length: n * n }, () => rng.uniform());
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = (y / (height - 1)) * cells;
    const y0 = Math.min(cells - 1, Math.floor(gy));
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = (x / (width - 1)) * cells;
      const x0 = Math.min(cells - 1, Math.floor(gx));
      const fx = gx - x0;
      const a = grid[y0 * n + x0] * (1 - fx) + grid[y0 * n + x0 + 1] * fx;
      const b = grid[(y0 + 1) * n + x0] * (1 - fx) + grid[(y0 + 1) * n + x0 + 1] * fx;
      out[y * width + x] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}
