/**
 * Trace -> binary mask, exactly as upstream (docs/upstream.md#trace-to-mask): the polygon runs down one wall
 * (X1,Y1 of rows 1..n-1), back up the other (X2,Y2 of rows n-1..1), vertices rounded half-to-even like
 * `np.rint`, filled with scikit-image 0.19.3 `draw.polygon` semantics (boundary included).
 */

import { FRAME_SIZE } from '../defaults.js';

/** Round half to even, as `np.rint`. */
export function rint(v: number): number {
  const r = Math.round(v); // halves go up here
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The rounded vertex list of a traced frame's polygon (x = column, y = row). */
export function tracingPolygon(rows: number[][]): { x: number[]; y: number[] } {
  if (rows.length < 2)
    throw new Error(`a trace needs at least 2 rows (long axis + chords), got ${rows.length}`);
  const chords = rows.slice(1); // row 0 is the long axis
  const x: number[] = [];
  const y: number[] = [];
  for (const r of chords) {
    x.push(rint(r[0]));
    y.push(rint(r[1]));
  }
  for (let i = chords.length - 1; i >= 0; i--) {
    x.push(rint(chords[i][2]));
    y.push(rint(chords[i][3]));
  }
  return { x, y };
}

const OUTSIDE = 0;
const INSIDE = 1;
const VERTEX = 2;
const EDGE = 3;

/**
 * scikit-image's `point_in_polygon` (O'Rourke's crossing test with left and right crossing
 * counts): 0 outside, 1 inside, 2 on a vertex, 3 on an edge. Same float operations in the same
 * order, so the classification matches bit for bit.
 */
function pointInPolygon(xp: ArrayLike<number>, yp: ArrayLike<number>, x: number, y: number): number {
  const n = xp.length;
  const eps = 1e-12;
  let x1 = xp[n - 1] - x;
  let y1 = yp[n - 1] - y;
  let lCross = 0;
  let rCross = 0;
  for (let i = 0; i < n; i++) {
    const x0 = xp[i] - x;
    const y0 = yp[i] - y;
    if (-eps < x0 && x0 < eps && -eps < y0 && y0 < eps) return VERTEX;
    if (y0 > 0 !== y1 > 0 && (x0 * y1 - x1 * y0) / (y1 - y0) > 0) rCross++;
    if (y0 < 0 !== y1 < 0 && (x0 * y1 - x1 * y0) / (y1 - y0) < 0) lCross++;
    x1 = x0;
    y1 = y0;
  }
  if ((rCross & 1) !== (lCross & 1)) return EDGE;
  return rCross & 1 ? INSIDE : OUTSIDE;
}

/** Fill a polygon like `skimage.draw.polygon(rows=y, cols=x, shape=(height, width))`. */
export function fillPolygon(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  height: number,
  width: number,
): Uint8Array {
  const mask = new Uint8Array(height * width);
  if (x.length === 0) return mask;
  let minX = Infinity,
    maxX = -Infinity,
    minY = Infinity,
    maxY = -Infinity;
  for (let i = 0; i < x.length; i++) {
    minX = Math.min(minX, x[i]);
    maxX = Math.max(maxX, x[i]);
    minY = Math.min(minY, y[i]);
    maxY = Math.max(maxY, y[i]);
  }
  // skimage clamps the box low end at 0 and the high end at shape-1 (ceil'd, then int()).
  const r0 = Math.trunc(Math.max(0, minY));
  const r1 = Math.min(height - 1, Math.ceil(maxY));
  const c0 = Math.trunc(Math.max(0, minX));
  const c1 = Math.min(width - 1, Math.ceil(maxX));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      if (pointInPolygon(x, y, c, r) !== OUTSIDE) mask[r * width + c] = 1;
    }
  }
  return mask;
}

/** Mask of a traced frame (rows as in VolumeTracings.csv): 1 inside/edge/vertex, 0 outside. */
export function tracingToMask(rows: number[][], height = FRAME_SIZE, width = FRAME_SIZE): Uint8Array {
  const { x, y } = tracingPolygon(rows);
  return fillPolygon(x, y, height, width);
}
