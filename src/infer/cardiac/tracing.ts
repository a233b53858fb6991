/**
 * An LV outline drawn on a frame <-> EchoNet's VolumeTracings rows (row 0 the long axis from the
 * apex to the midpoint of the mitral annulus, rows 1..20 the chords perpendicular to it at the
 * centres of 20 equal discs, X1,Y1 on one wall and X2,Y2 on the other, apex to base), as the
 * synthetic data writes them and `ort-train` reads them. Browser-safe: the viewer's tracing tool
 * writes rows with these rules and reads them back.
 *
 * Outline -> rows:
 *  1. the axis direction is the method-of-discs rule of volume.ts on the outline's filled mask
 *     ('area' convention: the outline is the whole cavity): apex A and annulus midpoint M;
 *  2. the axis ends are where the line through A and M leaves the outline on each side (the
 *     outermost crossing), so they lie on the drawn outline rather than on pixel centres;
 *  3. chord i (1..20) is centred (i - 1/2)/20 of the way from apex to base; its ends are the first
 *     crossings of the perpendicular with the outline on each side of the axis (from the centre
 *     outwards, as a wall is met), X1,Y1 on the side of (-uy, ux) for the apex-to-base direction
 *     u = (ux, uy) in image coordinates (x right, y down), as the synthetic tracings have it.
 * Rows -> outline: the apex (row 0's X1,Y1), the X1 ends apex to base, a flat base through the
 * annulus midpoint (row 0's X2,Y2), the X2 ends base to apex. Rows -> outline -> rows gives the
 * rows back to within the axis rule's error (tested).
 *
 * The mask the models train on is upstream's polygon of the chord ends (data/polygon.ts), which
 * leaves out the apical cap and the basal half-disc beyond the first and last chords; that is
 * what EchoNet's format holds, so the page trains on exactly what `ort-train` reads back.
 */
import { fillPolygon } from '../../data/polygon.js';
import { measureDiscs } from './volume.js';

export const ECHONET_CHORDS = 20;

/** A closed polygon, pixel coordinates (x = column, y = row). */
export interface Outline {
  x: number[];
  y: number[];
}

/**
 * Where the line p + s*d crosses the outline's edges: every s (d need not be unit length; an
 * edge along the line counts at its ends).
 */
function crossings(o: Outline, px: number, py: number, dx: number, dy: number): number[] {
  const out: number[] = [];
  const n = o.x.length;
  for (let i = 0; i < n; i++) {
    const [ax, ay] = [o.x[i], o.y[i]];
    const [bx, by] = [o.x[(i + 1) % n], o.y[(i + 1) % n]];
    const ex = bx - ax;
    const ey = by - ay;
    const den = dx * ey - dy * ex;
    if (Math.abs(den) < 1e-12) continue;
    // p + s d = a + t e
    const s = ((ax - px) * ey - (ay - py) * ex) / den;
    const t = ((ax - px) * dy - (ay - py) * dx) / den;
    if (t >= 0 && t <= 1) out.push(s);
  }
  return out;
}

/**
 * VolumeTracings rows `[x1, y1, x2, y2]` (long axis, then `chords` chords) of an outline on a
 * frame of `height` x `width` pixels. Throws for an outline that encloses no pixel.
 */
export function tracingFromOutline(
  o: Outline,
  height: number,
  width: number,
  chords = ECHONET_CHORDS,
): number[][] {
  if (o.x.length < 3 || o.x.length !== o.y.length)
    throw new Error(`an outline needs at least 3 points, got ${Math.min(o.x.length, o.y.length)}`);
  const disc = measureDiscs(fillPolygon(o.x, o.y, height, width), height, width, 'area');
  if (!disc) throw new Error('the outline encloses no pixel of the frame');
  let [ux, uy] = [disc.base[0] - disc.apex[0], disc.base[1] - disc.apex[1]];
  const len = Math.hypot(ux, uy);
  if (len === 0) throw new Error('the outline is too small to have a long axis');
  [ux, uy] = [ux / len, uy / len];
  const [cx, cy] = [(disc.apex[0] + disc.base[0]) / 2, (disc.apex[1] + disc.base[1]) / 2];
  const along = crossings(o, cx, cy, ux, uy);
  const sApex = Math.min(0, ...along.filter((s) => s < 0));
  const sBase = Math.max(0, ...along.filter((s) => s > 0));
  const apex = [cx + sApex * ux, cy + sApex * uy];
  const base = [cx + sBase * ux, cy + sBase * uy];
  const axisLength = sBase - sApex;
  // X1 on the side of (-uy, ux), X2 on the side of (uy, -ux).
  const [nx, ny] = [uy, -ux];
  const rows: number[][] = [[apex[0], apex[1], base[0], base[1]]];
  for (let i = 1; i <= chords; i++) {
    const t = ((i - 0.5) / chords) * axisLength;
    const [px, py] = [apex[0] + t * ux, apex[1] + t * uy];
    const across = crossings(o, px, py, nx, ny);
    const s1 = Math.max(...across.filter((s) => s <= 0), -Infinity);
    const s2 = Math.min(...across.filter((s) => s >= 0), Infinity);
    const [a, b] = [Number.isFinite(s1) ? s1 : 0, Number.isFinite(s2) ? s2 : 0];
    rows.push([px + a * nx, py + a * ny, px + b * nx, py + b * ny]);
  }
  return rows;
}

/**
 * The outline a tracing's rows describe: the apex (row 0's X1,Y1), the X1 ends apex to base, the
 * base as a straight edge through the annulus midpoint (row 0's X2,Y2) perpendicular to the axis,
 * reaching as far across as the last chord, then the X2 ends back to the apex.
 */
export function outlineFromTracing(rows: number[][]): Outline {
  if (rows.length < 2)
    throw new Error(`a tracing needs a long axis and at least one chord, got ${rows.length} rows`);
  const [ax, ay, bx, by] = rows[0];
  const chords = rows.slice(1);
  const last = chords[chords.length - 1];
  // The last chord's ends moved along the axis onto the perpendicular through the base point.
  const len = Math.hypot(bx - ax, by - ay) || 1;
  const [ux, uy] = [(bx - ax) / len, (by - ay) / len];
  const onBase = (x: number, y: number): [number, number] => {
    const d = (bx - x) * ux + (by - y) * uy;
    return [x + d * ux, y + d * uy];
  };
  const b1 = onBase(last[0], last[1]);
  const b2 = onBase(last[2], last[3]);
  const x = [ax, ...chords.map((r) => r[0]), b1[0], b2[0], ...chords.map((r) => r[2]).reverse()];
  const y = [ay, ...chords.map((r) => r[1]), b1[1], b2[1], ...chords.map((r) => r[3]).reverse()];
  return { x, y };
}

/**
 * `n` points evenly spaced along a closed outline's perimeter, starting at its first point: a
 * predicted contour (one point per boundary pixel) made few enough to edit by hand.
 */
export function resampleOutline(o: Outline, n: number): Outline {
  const m = o.x.length;
  if (m === 0) return { x: [], y: [] };
  const cum = [0];
  for (let i = 0; i < m; i++)
    cum.push(cum[i] + Math.hypot(o.x[(i + 1) % m] - o.x[i], o.y[(i + 1) % m] - o.y[i]));
  const total = cum[m];
  const x: number[] = [];
  const y: number[] = [];
  let edge = 0;
  for (let k = 0; k < n; k++) {
    const at = (k * total) / n;
    while (edge < m - 1 && cum[edge + 1] <= at) edge++;
    const f = cum[edge + 1] > cum[edge] ? (at - cum[edge]) / (cum[edge + 1] - cum[edge]) : 0;
    const j = (edge + 1) % m;
    x.push(o.x[edge] + f * (o.x[j] - o.x[edge]));
    y.push(o.y[edge] + f * (o.y[j] - o.y[edge]));
  }
  return { x, y };
}
