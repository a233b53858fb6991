// The segmentation metrics and the Dice loss in plain numbers, one home for every stage: the
// training loop's pooled validation scores, the evaluator, whole-video scoring against the truth
// and the bootstrap. graphs/losses.ts holds the same formulas as graph ops
// (docs/upstream.md#dice-loss, docs/upstream.md#metrics-and-model-selection, docs/upstream.md#evaluation).

/** Pixel counts of one predicted frame against its ground truth (both binarised > 0). */
export interface Overlap {
  /** |pred AND gt| */
  inter: number;
  /** |pred OR gt| */
  union: number;
}

/** Intersection and union of two masks of the same size, a pixel counting as set when > 0. */
export function overlap(pred: ArrayLike<number>, gt: ArrayLike<number>): Overlap {
  if (pred.length !== gt.length) throw new Error(`mask sizes differ: ${pred.length} vs ${gt.length}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] > 0;
    const g = gt[i] > 0;
    if (p && g) inter++;
    if (p || g) union++;
  }
  return { inter, union };
}

/** 2 I / (U + I) = 2|A∩B| / (|A| + |B|) from intersection and union counts; NaN when both are 0. */
export function diceFromOverlap(inter: number, union: number): number {
  return (2 * inter) / (union + inter);
}

/**
 * DSC pooled over a set of frames: 2 sum(I) / (sum(U) + sum(I)), i.e. 2|A∩B| / (|A| + |B|)
 * summed over the frames, not the mean of per-frame scores. NaN when every mask is empty.
 */
export function pooledDice(items: readonly Overlap[]): number {
  let i = 0;
  let u = 0;
  for (const o of items) {
    i += o.inter;
    u += o.union;
  }
  return diceFromOverlap(i, u);
}

/** Dice of a single frame (NaN when both masks are empty). */
export function frameDice(o: Overlap): number {
  return diceFromOverlap(o.inter, o.union);
}

/** F1 / Dice from pooled confusion counts, with smp's 1e-7 smoothing (the training metric). */
export function dscFromCounts(tp: number, fp: number, fn: number): number {
  return (2 * tp + 1e-7) / (2 * tp + fn + fp + 1e-7);
}

/**
 * smp's binary Dice loss from soft sums sum(p t), sum(p) + sum(t), sum(t) pooled over a batch or a
 * whole split: 1 - 2 I / max(C, 1e-7), and 0 when there is no positive pixel at all.
 */
export function diceLossFromSums(intersection: number, cardinality: number, positives: number): number {
  if (positives <= 0) return 0;
  return 1 - (2 * intersection) / Math.max(cardinality, 1e-7);
}
