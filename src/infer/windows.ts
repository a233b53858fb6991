// Whole-video inference windows (docs/upstream.md#whole-video-inference) and how their predictions are merged
// into one mask per frame: upstream's "later window wins" on thresholded logits, or probability averaging.
import { clipIndices, inferenceWindows, padLength } from '../data/clips.js';

export type WindowMode = 'upstream' | 'overlap';

/**
 * Index lists of the windows over a video of `count` real frames, padded to T*p with black as
 * upstream (docs/upstream.md#short-videos). 'upstream': non-overlapping, the last one aligned to the end.
 * 'overlap': the same layout at half the stride (floor(T/2)*p), so away from the ends every
 * frame is seen by two windows, in different clip positions.
 */
export function videoWindows(count: number, T: number, p: number, mode: WindowMode): number[][] {
  const f = padLength(count, T, p);
  if (mode === 'upstream') return inferenceWindows(f, T, p);
  const span = T * p;
  const stride = Math.max(1, Math.floor(T / 2)) * p;
  const bases: number[] = [];
  for (let b = 0; b < f - span; b += stride) bases.push(b);
  bases.push(f - span);
  const windows: number[][] = [];
  for (const b of bases) for (let i = 0; i < p; i++) windows.push(clipIndices(b + i, T, p));
  return windows;
}

/**
 * Accumulates per-window logits [T, plane] into binary masks for the `count` real frames (frames
 * past the end are padding and are dropped).
 * 'upstream': each window thresholds at logit >= 0 and overwrites what earlier windows wrote.
 * 'overlap': sigmoid probabilities are summed per frame and the mean is thresholded at >= 0.5.
 */
export class WindowFusion {
  private readonly masks: Uint8Array;
  /** 'overlap': summed sigmoid probabilities; 'upstream': the last window's. */
  private readonly probSum: Float32Array;
  private readonly seen: Uint16Array;

  constructor(
    readonly count: number,
    readonly plane: number,
    readonly mode: WindowMode,
  ) {
    this.masks = new Uint8Array(count * plane);
    this.probSum = new Float32Array(count * plane);
    this.seen = new Uint16Array(count);
  }

  add(indices: readonly number[], logits: Float32Array): void {
    const { plane } = this;
    if (logits.length !== indices.length * plane)
      throw new Error(`window logits hold ${logits.length} values, expected ${indices.length}x${plane}`);
    indices.forEach((frame, k) => {
      if (frame >= this.count) return;
      const src = logits.subarray(k * plane, (k + 1) * plane);
      const at = frame * plane;
      if (this.mode === 'overlap') {
        for (let i = 0; i < plane; i++) this.probSum[at + i] += 1 / (1 + Math.exp(-src[i]));
      } else {
        for (let i = 0; i < plane; i++) {
          this.masks[at + i] = src[i] >= 0 ? 1 : 0;
          this.probSum[at + i] = 1 / (1 + Math.exp(-src[i]));
        }
      }
      this.seen[frame]++;
    });
  }

  /** Masks [count, plane], 1 inside; every real frame must have been covered by a window. */
  result(): Uint8Array {
    const missing = this.seen.findIndex((n) => n === 0);
    if (missing >= 0) throw new Error(`frame ${missing} was not covered by any window`);
    if (this.mode === 'overlap') {
      for (let f = 0; f < this.count; f++) {
        const half = 0.5 * this.seen[f];
        for (let i = f * this.plane, end = i + this.plane; i < end; i++)
          this.masks[i] = this.probSum[i] >= half ? 1 : 0;
      }
    }
    return this.masks;
  }

  /**
   * Fused probabilities [count, plane] whose threshold at 1/2 gives result()'s masks (the mean
   * over windows for 'overlap', the last window's for 'upstream'): masks mapped to another grid
   * are resampled from these rather than from the binary masks.
   */
  probabilities(): Float32Array {
    const probs = Float32Array.from(this.probSum);
    if (this.mode === 'overlap')
      for (let f = 0; f < this.count; f++) {
        const n = Math.max(1, this.seen[f]);
        for (let i = f * this.plane, end = i + this.plane; i < end; i++) probs[i] /= n;
      }
    return probs;
  }

  /** How many windows covered each real frame. */
  coverage(): number[] {
    return Array.from(this.seen);
  }
}
