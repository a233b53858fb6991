/**
 * Python's number formatting, so the files upstream's evaluator writes (test_dice.csv via
 * `str(np.float64)`, log.csv via `{:.4f}`) can be reproduced byte for byte.
 */

/** `str(float)` / `repr(float)`: shortest round-trip digits, `1.0`, `nan`, `inf`, `1e-05`. */
export function pyRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  // Python switches to exponent notation below 1e-4 and from 1e16 on (JS: 1e-6 and 1e21).
  if (ax < 1e-4 || ax >= 1e16) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/**
 * `'{:.Nf}'.format(x)`. Both languages round the exact binary value; they differ only on exact
 * ties, where Python rounds half to even and JS's toFixed rounds up. A double is an exact tie
 * at N decimals only if x * 2^(N+1) is an odd integer (the tie (2k+1)/(2*10^N) must be dyadic).
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const scaled2 = x * 2 ** (digits + 1);
  if (Number.isInteger(scaled2) && Math.abs(scaled2) % 2 === 1) {
    const t = x * 10 ** digits; // exact: odd * 5^N / 2
    let k = Math.floor(t);
    if (k % 2 !== 0) k += 1; // the tie goes to the even neighbour
    const s = (Math.abs(k) / 10 ** digits).toFixed(digits);
    return k < 0 || (k === 0 && x < 0) ? `-${s}` : s;
  }
  return x.toFixed(digits);
}
