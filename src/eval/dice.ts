/** Overlap counts and the pooled (micro) Dice similarity coefficient of upstream's evaluator. */

/** Pixel counts of one predicted frame against its ground truth (both binarised > 0). */
export interface Overlap {
  /** |pred AND gt| */
  inter: number;
  /** |pred OR gt| */
  union: number;
}

export function overlap(pred: Uint8Array, gt: Uint8Array): Overlap {
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
  return (2 * i) / (u + i);
}

/** Dice of a single frame (NaN when both masks are empty). */
export function frameDice(o: Overlap): number {
  return (2 * o.inter) / (o.union + o.inter);
}
