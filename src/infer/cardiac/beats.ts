import { smoothArea } from './area.js';

/** One cardiac cycle: the end-diastolic frame and the end-systolic frame that follows it. */
export interface Beat {
  ed: number;
  es: number;
}

export interface BeatOptions {
  /** Fastest plausible heart rate; sets the minimum spacing between two EDs (or two ESs). */
  maxHeartRateBpm?: number;
  /** Minimum prominence of an extremum, as a fraction of the smoothed curve's range. */
  minProminence?: number;
  /** Smoothing window in seconds (0 = use the curve as given). */
  smoothSeconds?: number;
}

export const BEAT_DEFAULTS: Required<BeatOptions> = {
  maxHeartRateBpm: 200,
  minProminence: 0.2,
  smoothSeconds: 0.1,
};

/**
 * Indices of the local maxima of `x` that stand out by at least `minProminence` and lie at
 * least `minDistance` samples apart (the higher one wins), in increasing order.
 *
 * Prominence as in scipy.signal.find_peaks: from the peak, walk each way until a higher sample
 * (or the end); the prominence is the peak minus the higher of the two minima met on the way.
 * Flat tops count once, at their middle. The first and last samples are never peaks, because
 * an extremum cut by the video's ends cannot be told from a partial slope.
 */
export function findPeaks(x: ArrayLike<number>, minDistance: number, minProminence: number): number[] {
  const n = x.length;
  const candidates: number[] = [];
  for (let i = 1; i < n - 1; i++) {
    if (!(x[i] > x[i - 1])) continue;
    let j = i;
    while (j + 1 < n - 1 && x[j + 1] === x[i]) j++;
    if (x[j + 1] < x[i]) candidates.push(Math.floor((i + j) / 2));
    i = j;
  }
  const prominent = candidates.filter((p) => prominence(x, p) >= minProminence);
  const byHeight = [...prominent].sort((a, b) => x[b] - x[a] || a - b);
  const kept: number[] = [];
  for (const p of byHeight) {
    if (kept.every((k) => Math.abs(k - p) >= minDistance)) kept.push(p);
  }
  return kept.sort((a, b) => a - b);
}

function prominence(x: ArrayLike<number>, p: number): number {
  let leftMin = x[p];
  for (let k = p - 1; k >= 0 && x[k] <= x[p]; k--) leftMin = Math.min(leftMin, x[k]);
  let rightMin = x[p];
  for (let k = p + 1; k < x.length && x[k] <= x[p]; k++) rightMin = Math.min(rightMin, x[k]);
  return x[p] - Math.max(leftMin, rightMin);
}

/**
 * Cardiac cycles from an LV area (or volume) curve sampled at `fps`: ED = prominent local
 * maxima, ES = prominent local minima of the smoothed curve, each kind at least one shortest
 * plausible beat (60 / maxHeartRateBpm seconds) apart. Each ED is paired with the deepest ES
 * before the next ED; an ED with no ES after it in the video is dropped.
 */
export function detectBeats(area: ArrayLike<number>, fps: number, opts: BeatOptions = {}): Beat[] {
  const o = { ...BEAT_DEFAULTS, ...opts };
  if (!(fps > 0)) throw new Error(`detectBeats: fps must be positive, got ${fps}`);
  const curve = o.smoothSeconds > 0 ? smoothArea(area, fps, o.smoothSeconds) : Float64Array.from(area);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of curve) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const range = hi - lo;
  if (!(range > 0)) return [];
  const minDistance = Math.max(1, Math.round((fps * 60) / o.maxHeartRateBpm));
  const minProm = o.minProminence * range;
  const eds = findPeaks(curve, minDistance, minProm);
  const esCandidates = findPeaks(
    curve.map((v) => -v),
    minDistance,
    minProm,
  );
  const beats: Beat[] = [];
  for (let k = 0; k < eds.length; k++) {
    const next = k + 1 < eds.length ? eds[k + 1] : curve.length;
    let es = -1;
    for (const m of esCandidates) {
      if (m > eds[k] && m < next && (es < 0 || curve[m] < curve[es])) es = m;
    }
    if (es >= 0) beats.push({ ed: eds[k], es });
  }
  return beats;
}
