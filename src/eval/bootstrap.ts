import { Rng } from '../util/rng.js';
import { roundHalfEven } from '../util/round.js';
import { diceFromOverlap, pooledDice, type Overlap } from './metrics.js';

/** A point estimate with its bootstrap percentile intervals. */
export interface BootstrapResult {
  estimate: number;
  /** Upstream's interval: sorted[round(0.05 n)] .. sorted[round(0.95 n)], a 90 % interval (5th-95th percentile). */
  ci90: [number, number];
  /** The true 95 % percentile interval: sorted[round(0.025 n)] .. sorted[round(0.975 n)]. */
  ci95: [number, number];
  resamples: number;
  items: number;
}

/**
 * Percentile bootstrap of the pooled DSC, as upstream: each of `resamples` resamples draws
 * len(items) items with replacement (frames are drawn independently, not paired by video) and
 * the statistic is the pooled DSC of the draw. Unlike upstream the draws are seeded, so the same
 * inputs and seed give the same interval. A resample whose masks are all empty has DSC NaN and
 * sorts last, as numpy sorts NaN.
 */
export function bootstrapPooledDice(items: readonly Overlap[], resamples: number, rng: Rng): BootstrapResult {
  if (!(Number.isInteger(resamples) && resamples > 0))
    throw new Error(`resamples must be a positive integer, got ${resamples}`);
  const n = items.length;
  const inter = Float64Array.from(items, (o) => o.inter);
  const union = Float64Array.from(items, (o) => o.union);
  const estimate = pooledDice(items);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let ri = 0;
    let ru = 0;
    for (let k = 0; k < n; k++) {
      const j = Math.floor(rng.uniform() * n);
      ri += inter[j];
      ru += union[j];
    }
    stats[r] = diceFromOverlap(ri, ru);
  }
  // Float64Array.sort orders numerically and puts NaN last.
  stats.sort();
  return {
    estimate,
    ci90: percentileInterval(stats, 0.05, 0.95),
    ci95: percentileInterval(stats, 0.025, 0.975),
    resamples,
    items: n,
  };
}

/**
 * [sorted[round(lo n)], sorted[round(hi n)]] with Python's round (ties to even), as upstream
 * indexes its sorted list; an index of n (possible only for tiny n) is clamped to n - 1.
 */
export function percentileInterval(sorted: ArrayLike<number>, lo: number, hi: number): [number, number] {
  const n = sorted.length;
  const at = (q: number): number => sorted[Math.min(n - 1, roundHalfEven(q * n))];
  return [at(lo), at(hi)];
}
