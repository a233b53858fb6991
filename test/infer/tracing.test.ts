import { expect } from 'chai';
import { tracingToMask } from '../../src/data/polygon.js';
import { HeartModel } from '../../src/data/synth/heart.js';
import { sampleParams } from '../../src/data/synth/params.js';
import { volumeFromTracing } from '../../src/data/synth/volume.js';
import { frameDice, overlap } from '../../src/eval/metrics.js';
import { outlineFromTracing, tracingFromOutline, type Outline } from '../../src/infer/cardiac/tracing.js';
import { Rng } from '../../src/util/rng.js';

const H = 112;
const W = 112;

const dice = (a: Uint8Array, b: Uint8Array): number => frameDice(overlap(a, b));

/** The synthetic hearts' EchoNet-style tracings (apex, ED-like, mid and ES-like states, 8 seeds). */
function heartTracings(): { rows: number[][]; inside: (x: number, y: number) => boolean; what: string }[] {
  const out = [];
  for (let seed = 0; seed < 8; seed++) {
    const model = new HeartModel(sampleParams(new Rng(seed), { framesMin: 60, framesMax: 60 }).heart);
    for (const k of [0, 0.5, 1]) {
      const st = model.state(k, 0);
      out.push({
        rows: model.trace(st),
        inside: (x: number, y: number) => model.lvInsideImage(st, x, y),
        what: `seed ${seed} k ${k}`,
      });
    }
  }
  return out;
}

/**
 * The cavity's border as a user would click it: 72 points found by bisection along rays from the
 * middle of the synthetic tracing's long axis (on the border, not on pixel centres).
 */
function boundary(inside: (x: number, y: number) => boolean, rows: number[][]): Outline {
  const [cx, cy] = [(rows[0][0] + rows[0][2]) / 2, (rows[0][1] + rows[0][3]) / 2];
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < 72; k++) {
    const [dx, dy] = [Math.cos((k * Math.PI) / 36), Math.sin((k * Math.PI) / 36)];
    let [lo, hi] = [0, 80];
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      if (inside(cx + mid * dx, cy + mid * dy)) lo = mid;
      else hi = mid;
    }
    x.push(cx + lo * dx);
    y.push(cy + lo * dy);
  }
  return { x, y };
}

describe('infer/cardiac tracing: an outline <-> EchoNet VolumeTracings rows', () => {
  it('rows -> outline -> rows gives back the long axis and the 20 chords within 1 px, hence the same mask and volume', () => {
    let worst = 0;
    for (const { rows, what } of heartTracings()) {
      const back = tracingFromOutline(outlineFromTracing(rows), H, W);
      expect(back, what).to.have.length(21);
      rows.forEach((r, i) =>
        r.forEach((v, j) => {
          worst = Math.max(worst, Math.abs(back[i][j] - v));
          expect(Math.abs(back[i][j] - v), `${what} row ${i} column ${j}`).to.be.below(1);
        }),
      );
      expect(dice(tracingToMask(back), tracingToMask(rows)), what).to.be.above(0.98);
      expect(volumeFromTracing(back) / volumeFromTracing(rows), what).to.be.closeTo(1, 0.01);
    }
    console.log(`      worst coordinate difference ${worst.toFixed(3)} px`);
  });

  it("the outline of the true cavity (a user's tracing) gives rows whose mask matches the synthetic tracing's (Dice > 0.95), apex and X1 wall as theirs, volume within 5 %", () => {
    for (const { rows, inside, what } of heartTracings()) {
      const drawn = tracingFromOutline(boundary(inside, rows), H, W);
      expect(dice(tracingToMask(drawn), tracingToMask(rows)), what).to.be.above(0.95);
      // Apex (row 0's X1,Y1) near the synthetic apex; chord 10's X1 on the same side as theirs.
      expect(Math.hypot(drawn[0][0] - rows[0][0], drawn[0][1] - rows[0][1]), `${what} apex`).to.be.below(3);
      expect(
        Math.hypot(drawn[10][0] - rows[10][0], drawn[10][1] - rows[10][1]),
        `${what} chord X1`,
      ).to.be.below(3);
      expect(volumeFromTracing(drawn) / volumeFromTracing(rows), what).to.be.closeTo(1, 0.05);
    }
  });

  it('refuses an outline of fewer than three points or around no pixel', () => {
    expect(() => tracingFromOutline({ x: [1, 2], y: [1, 2] }, H, W)).to.throw(/at least 3 points/);
    expect(() => tracingFromOutline({ x: [-9, -5, -7], y: [-9, -9, -5] }, H, W)).to.throw(/no pixel/);
  });
});
