/**
 * Rounding to the nearest integer with ties to even: Python's round(), numpy's rint and C's
 * lrint/cvRound under the default rounding mode. Pure, browser-safe.
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
