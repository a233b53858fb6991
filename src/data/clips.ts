import type { Rng } from '../util/rng.js';

/**
 * Temporal clip selection (docs/upstream.md#clip-sampling). A clip is the T indices s, s+p, ..., s+(T-1)p
 * into a video of f frames that was padded at the end with black frames up to T*p if shorter.
 */

/** Length of the video after padding: short videos are extended to T*p frames. */
export function padLength(f: number, T: number, p: number): number {
  return Math.max(f, T * p);
}

function checkArgs(f: number, T: number, p: number): void {
  if (!(Number.isInteger(T) && T >= 1 && Number.isInteger(p) && p >= 1)) {
    throw new Error(`frames (${T}) and period (${p}) must be positive integers`);
  }
  // Callers pass the padded length (padLength), which is always >= T*p; then every traced frame
  // has a clip aligned with it.
  if (!(Number.isInteger(f) && f >= T * p)) {
    throw new Error(`a video of ${f} frames is shorter than T*p = ${T * p}; pad it first (padLength)`);
  }
}

function checkTrace(ti: number, f: number): void {
  if (!(Number.isInteger(ti) && ti >= 0 && ti < f))
    throw new Error(`traced frame ${ti} is outside a video of ${f} frames`);
}

/**
 * Training clip containing the traced frame: uniform over the valid starts
 * {s : max(0, ti-(T-1)p) <= s <= min(ti, f-1-(T-1)p), s = ti (mod p)}, which is what upstream's
 * rejection sampling over s in [0, f-(T-1)p-1] converges to.
 */
export function randomClipStart(rng: Rng, ti: number, f: number, T: number, p: number): number {
  checkArgs(f, T, p);
  checkTrace(ti, f);
  const span = (T - 1) * p;
  const hi = Math.min(ti, f - 1 - span);
  // Smallest s >= max(0, ti - span) congruent to ti mod p.
  const lo = ti - p * Math.floor((ti - Math.max(0, ti - span)) / p);
  const count = Math.floor((hi - lo) / p) + 1;
  if (count < 1) throw new Error(`no clip of ${T}x${p} frames in ${f} contains frame ${ti}`);
  return lo + p * rng.int(0, count - 1);
}

/**
 * Evaluation clip: traced frame at position T//2, shifted to fit, aligned mod p
 * (docs/upstream.md#clip-sampling).
 */
export function centredClipStart(ti: number, f: number, T: number, p: number): number {
  checkArgs(f, T, p);
  checkTrace(ti, f);
  let s = ti - Math.floor(T / 2) * p;
  const over = s + (T - 1) * p - (f - 1);
  if (over > 0) s -= p * Math.ceil(over / p);
  if (s < 0) s += p * Math.ceil(-s / p);
  return s;
}

/** SSL clip: any start in [0, f-(T-1)p-1], no constraint. */
export function sslClipStart(rng: Rng, f: number, T: number, p: number): number {
  checkArgs(f, T, p);
  return rng.int(0, f - (T - 1) * p - 1);
}

export function clipIndices(start: number, T: number, p: number): number[] {
  return Array.from({ length: T }, (_, k) => start + k * p);
}

/**
 * Start of every whole-video inference window (docs/upstream.md#whole-video-inference), in order; f is the
 * padded length.
 */
export function inferenceWindowStarts(f: number, T: number, p: number): number[] {
  checkArgs(f, T, p);
  const span = T * p;
  const bases: number[] = [];
  for (let b = 0; b < f - span; b += span) bases.push(b);
  bases.push(f - span);
  const starts: number[] = [];
  for (const b of bases) for (let i = 0; i < p; i++) starts.push(b + i);
  return starts;
}

/**
 * Index lists of the whole-video inference windows: non-overlapping except the last, aligned to
 * the end of the video; later windows overwrite earlier ones where they overlap.
 */
export function inferenceWindows(f: number, T: number, p: number): number[][] {
  return inferenceWindowStarts(f, T, p).map((s) => clipIndices(s, T, p));
}
