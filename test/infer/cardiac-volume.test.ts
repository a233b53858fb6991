import { expect } from 'chai';
import { tracingToMask } from '../../src/data/polygon.js';
import { HeartModel } from '../../src/data/synth/heart.js';
import { sampleParams } from '../../src/data/synth/params.js';
import { volumeFromTracing } from '../../src/data/synth/volume.js';
import { largestComponent, lvVolumeByDiscs, measureDiscs } from '../../src/infer/cardiac/index.js';
import { Rng } from '../../src/util/rng.js';
import { ellipseMask, shapeMask } from './cardiac-shapes.js';

const H = 112;
const W = 112;

const rel = (got: number, want: number): number => Math.abs(got / want - 1);

describe('infer/cardiac volume (method of discs on a mask)', function () {
  it('gives the prolate spheroid volume 4/3 pi a b^2 for an ellipse at any angle (within 3 %)', function () {
    for (const deg of [0, 20, 45, 80, 90, 135]) {
      const m = measureDiscs(ellipseMask(56.3, 55.7, 40, 15, (deg * Math.PI) / 180), H, W, 'area')!;
      expect(rel(m.volume, (4 / 3) * Math.PI * 40 * 15 * 15), `${deg} deg`).to.be.below(0.03);
      expect(m.length, `${deg} deg`).to.be.closeTo(80, 3);
    }
  });

  it('gives 2/3 pi a b^2 for a half spheroid cut flat at the base, with A at the apex and M mid-base', function () {
    for (const deg of [0, 15, -20, 30]) {
      const t = (deg * Math.PI) / 180;
      // Apex up (towards -y rotated by t), base through (56.3, 75.2).
      const mask = shapeMask((x, y) => {
        const dx = x - 56.3;
        const dy = y - 75.2;
        const up = dx * Math.sin(t) - dy * Math.cos(t);
        const across = dx * Math.cos(t) + dy * Math.sin(t);
        return up >= 0 && up <= 50 && (up / 50) ** 2 + (across / 18) ** 2 <= 1;
      });
      const m = measureDiscs(mask, H, W, 'area')!;
      expect(rel(m.volume, (2 / 3) * Math.PI * 50 * 18 * 18), `${deg} deg`).to.be.below(0.03);
      expect(Math.hypot(m.base[0] - 56.3, m.base[1] - 75.2), `base at ${deg} deg`).to.be.below(1.5);
      expect(
        Math.hypot(m.apex[0] - (56.3 + 50 * Math.sin(t)), m.apex[1] - (75.2 - 50 * Math.cos(t))),
        `apex at ${deg} deg`,
      ).to.be.below(1.5);
    }
  });

  it('finds the annulus midpoint of a base cut at a tilt', function () {
    // Ellipse (a = 55 vertical, b = 18) cut by a line at 20 degrees through (56, 75).
    const k = Math.tan((20 * Math.PI) / 180);
    const inEllipse = (x: number, y: number): boolean => ((x - 56) / 18) ** 2 + ((y - 40) / 55) ** 2 <= 1;
    const mask = shapeMask((x, y) => inEllipse(x, y) && y <= 75 + k * (x - 56));
    // The cut's end points, by bisection along the line from its middle.
    const end = (dir: number): [number, number] => {
      let lo = 0;
      let hi = 30;
      for (let i = 0; i < 50; i++) {
        const mid = (lo + hi) / 2;
        if (inEllipse(56 + dir * mid, 75 + k * dir * mid)) lo = mid;
        else hi = mid;
      }
      return [56 + dir * lo, 75 + k * dir * lo];
    };
    const [p, q] = [end(-1), end(1)];
    const m = measureDiscs(mask, H, W, 'area')!;
    expect(Math.hypot(m.base[0] - (p[0] + q[0]) / 2, m.base[1] - (p[1] + q[1]) / 2)).to.be.below(1.5);
  });

  it("agrees with volumeFromTracing on masks drawn from the synthetic hearts' tracings (within 8 %), and on their pixel-centre masks (within 4 %)", function () {
    const efGap: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const model = new HeartModel(sampleParams(new Rng(seed), { framesMin: 60, framesMax: 60 }).heart);
      const vol: Record<string, number[]> = { trace: [], tracing: [], area: [] };
      for (const k of [0, 0.5, 1]) {
        const st = model.state(k, 0);
        const rows = model.trace(st);
        const want = volumeFromTracing(rows, 10); // px^3
        const fromTracing = lvVolumeByDiscs(tracingToMask(rows), H, W);
        const fromArea = lvVolumeByDiscs(
          shapeMask((x, y) => model.lvInsideImage(st, x, y)),
          H,
          W,
          'area',
        );
        expect(rel(fromTracing, want), `seed ${seed} k ${k} tracing mask`).to.be.below(0.08);
        expect(rel(fromArea, want), `seed ${seed} k ${k} pixel-centre mask`).to.be.below(0.04);
        vol.trace.push(want);
        vol.tracing.push(fromTracing);
        vol.area.push(fromArea);
      }
      const ef = (v: number[]): number => (100 * (v[0] - v[2])) / v[0];
      efGap.push(Math.abs(ef(vol.tracing) - ef(vol.trace)), Math.abs(ef(vol.area) - ef(vol.trace)));
    }
    expect(Math.max(...efGap), 'EF points').to.be.below(3);
  });

  it('scales with the cube of the size', function () {
    const small = lvVolumeByDiscs(ellipseMask(56, 56, 20, 8, 0.3), H, W, 'area');
    const large = lvVolumeByDiscs(ellipseMask(56, 56, 40, 16, 0.3), H, W, 'area');
    expect(large / small).to.be.closeTo(8, 0.5);
  });

  it('ignores stray blobs and returns 0 for an empty mask', function () {
    const clean = ellipseMask(50, 50, 30, 12, 1.2);
    const speckled = Uint8Array.from(clean);
    for (const i of [5 * W + 100, 5 * W + 101, 6 * W + 100, 100 * W + 5]) speckled[i] = 1;
    expect(lvVolumeByDiscs(speckled, H, W)).to.equal(lvVolumeByDiscs(clean, H, W));
    expect(largestComponent(speckled, H, W)).to.deep.equal(clean);
    expect(lvVolumeByDiscs(new Uint8Array(H * W), H, W)).to.equal(0);
    expect(measureDiscs(new Uint8Array(H * W), H, W)).to.equal(null);
    expect(() => lvVolumeByDiscs(new Uint8Array(10), H, W)).to.throw(/expected 112x112/);
  });
});
