// Learning-rate schedule and validation timing, as Lightning applies them upstream
// (docs/upstream.md#optimiser-and-schedule).

/** MultiStepLR stepped once per epoch: lr = base * gamma^(number of milestones <= epoch). */
export function multiStepLr(base: number, epoch: number, milestones: number[] = [], gamma = 0.1): number {
  return base * gamma ** milestones.filter((m) => epoch >= m).length;
}

/**
 * The batch indices (0-based, within an epoch) after which validation runs. Lightning's float
 * val_check_interval validates every int(batches * interval) batches; an interval of 1.0 (or an
 * integer count of batches when > 1) validates at the epoch's end only / every that many batches.
 */
export function validationPoints(batchesPerEpoch: number, valCheckInterval: number): number[] {
  if (batchesPerEpoch <= 0) return [];
  const every =
    valCheckInterval > 1
      ? Math.floor(valCheckInterval)
      : Math.max(1, Math.floor(batchesPerEpoch * valCheckInterval));
  const points: number[] = [];
  for (let k = every; k <= batchesPerEpoch; k += every) points.push(k - 1);
  return points;
}
