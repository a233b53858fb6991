/** LV area over time from per-frame binary masks, and its smoothing. */

/** Pixels inside the mask (> 0) for each frame of `masks` [F,H,W]. */
export function areaCurve(masks: Uint8Array, count: number, height: number, width: number): Float64Array {
  const plane = height * width;
  if (masks.length !== count * plane) {
    throw new Error(`masks hold ${masks.length} values, expected ${count}x${height}x${width}`);
  }
  const area = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    let n = 0;
    for (let i = f * plane, end = i + plane; i < end; i++) if (masks[i] > 0) n++;
    area[f] = n;
  }
  return area;
}

/** Odd window length (frames) spanning about `seconds` at `fps`; 1 means no smoothing. */
export function smoothingWindow(fps: number, seconds = 0.1): number {
  const n = Math.max(1, Math.round(fps * seconds));
  return n % 2 === 1 ? n : n + 1;
}

/**
 * Centred moving average. Near the ends the window shrinks symmetrically (to 2i+1 frames at
 * frame i), so the result never shifts extrema in time, which a one-sided window would.
 * A moving average over ~0.1 s removes frame-to-frame segmentation jitter while keeping the
 * systole/diastole swing (a beat lasts >= 0.3 s even at 200 bpm).
 */
export function movingAverage(x: ArrayLike<number>, window: number): Float64Array {
  const n = x.length;
  const half = Math.floor(window / 2);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + x[i];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = Math.min(half, i, n - 1 - i);
    out[i] = (prefix[i + h + 1] - prefix[i - h]) / (2 * h + 1);
  }
  return out;
}

/** The area curve smoothed with a centred moving average over about `seconds`. */
export function smoothArea(area: ArrayLike<number>, fps: number, seconds = 0.1): Float64Array {
  return movingAverage(area, smoothingWindow(fps, seconds));
}
