/**
 * Scoring CAMUS sequences as the paper's out-of-distribution table does (docs/camus.md#evaluation):
 * per frame the intersection and union of the predicted and the traced LV, pooled DSC
 * 2 sum(I) / (sum(U) + sum(I)) over a set of frames, with seeded bootstrap intervals (frames
 * resampled independently, as upstream does). The sets:
 *  - Overall: every traced frame of every patient;
 *  - ED, ES: the frames Info_*.cfg names;
 *  - Middle: frame N // 2 of the N frames kept;
 *  - by LV size, upstream's evaluate_bootstrap_large_small_middle.py rule: of the first and the
 *    last frame, "Large" is the first if its traced LV has more pixels than the last's, else the
 *    last (a tie makes the last Large), and "Small" the other one;
 *  - by image quality: the same sets within the patients of each ImageQuality.
 * Each patient is counted once (upstream lists every patient twice; see docs/upstream.md#camus).
 */
import type { CamusView } from '../../data/camus/dataset.js';
import { Rng } from '../../util/rng.js';
import { bootstrapPooledDice, type BootstrapResult } from '../bootstrap.js';
import { frameDice, overlap, pooledDice, type Overlap } from '../metrics.js';

/** One traced frame of one patient, scored. */
export interface CamusFrameScore extends Overlap {
  patient: string;
  view: CamusView;
  /** ImageQuality, lower case. */
  quality: string;
  /** Position among the kept frames, and the file's 0-based frame index. */
  position: number;
  sourceFrame: number;
  ed: boolean;
  es: boolean;
  middle: boolean;
  large: boolean;
  small: boolean;
  gtPixels: number;
  predPixels: number;
  dice: number;
}

export interface CaseForScoring {
  patient: string;
  view: CamusView;
  quality: string;
  count: number;
  source: number[];
  ed: number;
  es: number;
  height: number;
  width: number;
  /** LV masks by position, for the traced frames. */
  truth: Map<number, Uint8Array>;
  /** Predicted 0/1 masks [count, height, width]. */
  masks: Uint8Array;
}

const countSet = (m: Uint8Array): number => m.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);

/** Positions of the Large and Small frames by upstream's rule, or null without both ends traced. */
export function largeSmall(
  truth: Map<number, Uint8Array>,
  count: number,
): { large: number; small: number } | null {
  const first = truth.get(0);
  const last = truth.get(count - 1);
  if (!first || !last || count < 2) return null;
  return countSet(first) > countSet(last) ? { large: 0, small: count - 1 } : { large: count - 1, small: 0 };
}

/** The scored traced frames of one case, in frame order. */
export function scoreCase(c: CaseForScoring): CamusFrameScore[] {
  const plane = c.height * c.width;
  if (c.masks.length !== c.count * plane)
    throw new Error(`${c.patient}: ${c.masks.length} mask values for ${c.count}x${c.height}x${c.width}`);
  const ends = largeSmall(c.truth, c.count);
  const middle = Math.floor(c.count / 2);
  return [...c.truth.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const gt = c.truth.get(k)!;
      const pred = c.masks.subarray(k * plane, (k + 1) * plane);
      const o = overlap(pred, gt);
      return {
        patient: c.patient,
        view: c.view,
        quality: c.quality.toLowerCase(),
        position: k,
        sourceFrame: c.source[k],
        ed: k === c.ed,
        es: k === c.es,
        middle: k === middle,
        large: ends?.large === k,
        small: ends?.small === k,
        ...o,
        gtPixels: countSet(gt),
        predPixels: countSet(pred),
        dice: frameDice(o),
      };
    });
}

/** The frame sets of the table, each a pooled DSC with its intervals (null: no frame in the set). */
export interface CamusSetScores {
  overall: BootstrapResult | null;
  ed: BootstrapResult | null;
  es: BootstrapResult | null;
  middle: BootstrapResult | null;
}

export interface CamusDscSummary extends CamusSetScores {
  /** By LV size (upstream's rule), and Large and Small pooled (what that script calls "overall"). */
  bySize: {
    large: BootstrapResult | null;
    small: BootstrapResult | null;
    largeAndSmall: BootstrapResult | null;
  };
  byQuality: Record<string, CamusSetScores & { patients: number }>;
}

type Pick = (f: CamusFrameScore) => boolean;
const SETS: [keyof CamusSetScores, Pick][] = [
  ['overall', () => true],
  ['ed', (f) => f.ed],
  ['es', (f) => f.es],
  ['middle', (f) => f.middle],
];

/**
 * Pooled DSCs and bootstrap intervals of every set; each set draws from its own stream derived
 * from `seed`, so adding a set never moves another's interval.
 */
export function summariseDsc(frames: CamusFrameScore[], seed: number, resamples: number): CamusDscSummary {
  let stream = 0;
  const boot = (pick: Pick, within: CamusFrameScore[] = frames): BootstrapResult | null => {
    const items = within.filter(pick);
    const k = stream++;
    return items.length ? bootstrapPooledDice(items, resamples, Rng.derive(seed, k)) : null;
  };
  const sets = (within: CamusFrameScore[]): CamusSetScores =>
    Object.fromEntries(SETS.map(([name, pick]) => [name, boot(pick, within)])) as unknown as CamusSetScores;
  const all = sets(frames);
  const bySize = {
    large: boot((f) => f.large),
    small: boot((f) => f.small),
    largeAndSmall: boot((f) => f.large || f.small),
  };
  const byQuality: CamusDscSummary['byQuality'] = {};
  for (const q of [...new Set(frames.map((f) => f.quality))].sort()) {
    const within = frames.filter((f) => f.quality === q);
    byQuality[q] = { ...sets(within), patients: new Set(within.map((f) => f.patient)).size };
  }
  return { ...all, bySize, byQuality };
}

/** Per-patient pooled DSC of its frames in each set (NaN where a set has no frame). */
export function patientDsc(frames: CamusFrameScore[]): Record<keyof CamusSetScores, number> {
  const of = (pick: Pick): number => {
    const items = frames.filter(pick);
    return items.length ? pooledDice(items) : NaN;
  };
  return Object.fromEntries(SETS.map(([name, pick]) => [name, of(pick)])) as Record<
    keyof CamusSetScores,
    number
  >;
}
