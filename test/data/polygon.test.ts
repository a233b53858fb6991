import { expect } from 'chai';
import { fillPolygon, rint, tracingPolygon, tracingToMask } from '../../src/data/polygon.js';

/** Rows as in VolumeTracings.csv: a dummy long axis, then chords [x1, y1, x2, y2]. */
const trace = (...chords: number[][]) => [[0, 0, 0, 0], ...chords];

/** Filled pixels as "x,y" strings. */
function pixels(mask: Uint8Array, width: number): string[] {
  const out: string[] = [];
  mask.forEach((v, i) => v && out.push(`${i % width},${Math.floor(i / width)}`));
  return out.sort();
}

/** Every (x, y) with x in [x0,x1], y in ys(x), as "x,y" strings. */
function expected(x0: number, x1: number, ys: (x: number) => [number, number]): string[] {
  const out: string[] = [];
  for (let x = x0; x <= x1; x++) {
    const [a, b] = ys(x);
    for (let y = a; y <= b; y++) out.push(`${x},${y}`);
  }
  return out.sort();
}

// During development tracingToMask was also compared with scikit-image 0.19.3's draw.polygon
// (Debian python3-skimage) on 300 random traces, self-intersecting ones included: identical.
describe('data/polygon: tracing -> mask (docs/upstream.md#trace-to-mask)', () => {
  it('rounds half to even like np.rint', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 3].map(rint)).to.deep.equal([
      0, 2, 2, -0, -2, 2, 3, 3,
    ]);
  });

  it('walks down X1,Y1 then back up X2,Y2, dropping row 0', () => {
    const p = tracingPolygon([
      [9, 9, 9, 9],
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    expect(p).to.deep.equal({ x: [1, 5, 9, 11, 7, 3], y: [2, 6, 10, 12, 8, 4] });
  });

  it('fills a square with vertices on pixel centres, boundary included', () => {
    // Vertices (2,2) (2,5) (5,5) (5,2): the 4x4 pixels x,y in 2..5.
    const m = tracingToMask(trace([2, 2, 5, 2], [2, 5, 5, 5]), 8, 8);
    expect(pixels(m, 8)).to.deep.equal(expected(2, 5, () => [2, 5]));
  });

  it('rounds half-integer vertices half-to-even before filling', () => {
    // (1.5,2.5)->(2,2), (0.5,5.5)->(0,6), (4.5,6.5)->(4,6), (5.5,2.5)->(6,2): a trapezoid with
    // edges x = 2-(y-2)/2 and x = 6-(y-2)/2. Row 2: x 2..6; row 3: 2..5; row 4: 1..5 (both ends
    // on the edges); row 5: 1..4; row 6: 0..4. Half-up rounding would give (2,3),(1,6),(5,7),(6,3).
    const rows = trace([1.5, 2.5, 5.5, 2.5], [0.5, 5.5, 4.5, 6.5]);
    expect(tracingPolygon(rows)).to.deep.equal({ x: [2, 0, 4, 6], y: [2, 6, 6, 2] });
    const want = ['2-6', '2-5', '1-5', '1-4', '0-4'].flatMap((span, k) => {
      const [a, b] = span.split('-').map(Number);
      return Array.from({ length: b - a + 1 }, (_, i) => `${a + i},${k + 2}`);
    });
    expect(pixels(tracingToMask(rows, 8, 8), 8)).to.deep.equal(want.sort());
  });

  it('fills a concave chevron without its notch', () => {
    // (0,0) (4,4) (8,0) (8,2) (4,6) (0,2): a V-shaped band whose top edge is y = x (x <= 4) or
    // y = 8 - x, bottom edge 2 below, so each of the 9 columns has exactly 3 pixels (edges
    // included); (4,2), inside the notch of the V, stays 0.
    const rows = trace([0, 0, 0, 2], [4, 4, 4, 6], [8, 0, 8, 2]);
    const m = tracingToMask(rows, 10, 10);
    const top = (x: number) => (x <= 4 ? x : 8 - x);
    expect(pixels(m, 10)).to.deep.equal(expected(0, 8, (x) => [top(x), top(x) + 2]));
    expect(m[2 * 10 + 4]).to.equal(0);
  });

  it('clips a polygon partly outside the image', () => {
    // Rectangle x 6..13, y -2..5 in a 10x10 image: only x 6..9, y 0..5 remain.
    const m = tracingToMask(trace([6, -2, 13, -2], [6, 5, 13, 5]), 10, 10);
    expect(pixels(m, 10)).to.deep.equal(expected(6, 9, () => [0, 5]));
    // Entirely outside: nothing, and no error.
    expect(tracingToMask(trace([20, 20, 30, 20], [20, 30, 30, 30]), 10, 10).every((v) => v === 0)).to.equal(
      true,
    );
  });

  it('fills an EchoNet-like 21-row ellipse trace symmetrically, 112x112 by default', () => {
    const rows: number[][] = [[56, 30, 56, 80]];
    for (let k = 1; k <= 20; k++) {
      const y = 30 + (50 * k) / 21;
      const half = 18 * Math.sqrt(1 - ((y - 55) / 25) ** 2);
      rows.push([56 - half, y, 56 + half, y]);
    }
    const m = tracingToMask(rows);
    expect(m.length).to.equal(112 * 112);
    const area = m.reduce((a, b) => a + b, 0);
    expect(area).to.be.within(0.85 * Math.PI * 18 * 25, 1.1 * Math.PI * 18 * 25);
    let asymmetric = 0;
    for (let y = 0; y < 112; y++)
      for (let d = 1; d < 40; d++) asymmetric += Number(m[y * 112 + 56 - d] !== m[y * 112 + 56 + d]);
    expect(asymmetric).to.equal(0);
  });

  it('fillPolygon of no vertices is empty', () => {
    expect(fillPolygon([], [], 4, 4).every((v) => v === 0)).to.equal(true);
  });
});
