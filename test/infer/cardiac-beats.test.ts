import { expect } from 'chai';
import {
  analyzeCardiac,
  areaCurve,
  detectBeats,
  ejectionFraction,
  findPeaks,
  movingAverage,
  smoothingWindow,
} from '../../src/infer/cardiac/index.js';
import { Rng } from '../../src/util/rng.js';
import { ellipseMask } from './cardiac-shapes.js';

const H = 112;
const W = 112;

describe('infer/cardiac area curve and smoothing', function () {
  it('counts mask pixels per frame', function () {
    const masks = new Uint8Array(3 * 4);
    masks.set([1, 0, 0, 0, 1, 1, 255, 0, 0, 0, 0, 0]);
    expect([...areaCurve(masks, 3, 2, 2)]).to.deep.equal([1, 3, 0]);
    expect(() => areaCurve(masks, 2, 2, 2)).to.throw(/expected 2x2x2/);
  });

  it('smooths with a centred window that shrinks symmetrically at the ends', function () {
    expect(smoothingWindow(50)).to.equal(5);
    expect(smoothingWindow(30)).to.equal(3);
    expect(smoothingWindow(5)).to.equal(1);
    expect([...movingAverage([0, 3, 6, 9, 3, 0], 3)]).to.deep.equal([0, 3, 6, 6, 4, 0]);
    // A symmetric peak stays where it was.
    const peak = [0, 1, 2, 5, 9, 5, 2, 1, 0];
    const s = movingAverage(peak, 5);
    expect(s.indexOf(Math.max(...s))).to.equal(4);
  });
});

describe('infer/cardiac findPeaks', function () {
  const x = [0, 1, 3, 1, 0, 2, 2, 2, 0, 5, 0];
  it('finds maxima, flat tops at their middle, never at the ends', function () {
    expect(findPeaks(x, 1, 0)).to.deep.equal([2, 6, 9]);
    expect(findPeaks([5, 1, 5], 1, 0)).to.deep.equal([]);
  });
  it('drops peaks below the prominence (scipy definition)', function () {
    // prominences: index 2 -> 3, index 6 -> 2, index 9 -> 5
    expect(findPeaks(x, 1, 2.5)).to.deep.equal([2, 9]);
    expect(findPeaks(x, 1, 2)).to.deep.equal([2, 6, 9]);
  });
  it('keeps the higher of two peaks closer than the minimum distance', function () {
    expect(findPeaks(x, 4, 0)).to.deep.equal([2, 9]);
    expect(findPeaks(x, 8, 0)).to.deep.equal([9]);
  });
});

describe('infer/cardiac beats and EF', function () {
  const fps = 50;
  const bpm = 72;
  const period = (fps * 60) / bpm; // 41.67 frames
  const t0 = 10;
  const frames = 150;
  const amp = 0.12;
  const scale = (t: number): number => 1 + amp * Math.cos((2 * Math.PI * (t - t0)) / period);
  const trueEd = [0, 1, 2].map((k) => t0 + k * period);
  const trueEs = trueEd.map((e) => e + period / 2);

  it('finds ED/ES of a noisy sinusoidal area within 3 frames, and nothing in a flat one', function () {
    const rng = new Rng(11);
    const area = Array.from(
      { length: frames },
      (_, t) => 1500 + 300 * Math.cos((2 * Math.PI * (t - t0)) / period) + 30 * rng.normal(),
    );
    const beats = detectBeats(area, fps);
    expect(beats).to.have.length(3);
    beats.forEach((b, k) => {
      expect(b.ed).to.be.closeTo(trueEd[k], 3);
      expect(b.es).to.be.closeTo(trueEs[k], 3);
    });
    expect(detectBeats(new Array(100).fill(700), fps)).to.deep.equal([]);
  });

  it('never puts two EDs closer than the shortest plausible beat', function () {
    // A 300 bpm oscillation (period 10 frames at 50 fps) is faster than the 200 bpm limit.
    const area = Array.from({ length: 100 }, (_, t) => 1000 + 200 * Math.cos((2 * Math.PI * t) / 10));
    const beats = detectBeats(area, fps, { smoothSeconds: 0 });
    expect(beats.length).to.be.at.least(3);
    for (let k = 1; k < beats.length; k++) expect(beats[k].ed - beats[k - 1].ed).to.be.at.least(15);
  });

  it('an ellipse beating at 72 bpm: ED/ES within 1 frame, EF and heart rate close to analytic', function () {
    const plane = H * W;
    const masks = new Uint8Array(frames * plane);
    for (let t = 0; t < frames; t++)
      masks.set(ellipseMask(56, 52, 35 * scale(t), 14 * scale(t), (100 * Math.PI) / 180), t * plane);
    const result = analyzeCardiac(masks, frames, H, W, fps, { convention: 'area' });
    // The last ED (t = 135) has no ES before the end of the video.
    expect(result.beats.map((b) => [b.ed, b.es])).to.have.length(3);
    result.beats.forEach((b, k) => {
      expect(b.ed, `ED ${k}`).to.be.closeTo(trueEd[k], 1);
      expect(b.es, `ES ${k}`).to.be.closeTo(trueEs[k], 1);
      expect(b.edArea).to.equal(result.area[b.ed]);
    });
    // Both semi-axes scale with s(t), so V ~ s^3: EF = 1 - ((1 - amp) / (1 + amp))^3 = 51.5 %.
    const analytic = 100 * (1 - ((1 - amp) / (1 + amp)) ** 3);
    for (const b of result.beats) expect(b.ef).to.be.closeTo(analytic, 2);
    expect(result.meanEf).to.be.closeTo(analytic, 1.5);
    expect(result.heartRateBpm).to.be.closeTo(bpm, 3);
    expect(result.smoothedArea).to.have.length(frames);
  });

  it('ejectionFraction is 100 (EDV - ESV) / EDV', function () {
    expect(ejectionFraction(120, 54)).to.equal(55);
    expect(ejectionFraction(0, 0)).to.be.NaN;
  });
});
