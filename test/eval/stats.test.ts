import { expect } from 'chai';
import { bootstrapPooledDice, percentileInterval } from '../../src/eval/bootstrap.js';
import { diceLossFromSums, dscFromCounts, frameDice, overlap, pooledDice } from '../../src/eval/metrics.js';
import { pyFixed, pyRepr } from '../../src/eval/pyformat.js';
import { roundHalfEven } from '../../src/util/round.js';
import { Rng } from '../../src/util/rng.js';

describe('eval/pyformat (Python number formatting)', function () {
  it('pyRepr writes floats as Python str() does', function () {
    expect(pyRepr(1)).to.equal('1.0');
    expect(pyRepr(0)).to.equal('0.0');
    expect(pyRepr(0.5)).to.equal('0.5');
    expect(pyRepr(1 / 3)).to.equal('0.3333333333333333');
    expect(pyRepr(2 / 25088)).to.equal('7.971938775510203e-05');
    expect(pyRepr(1e-4)).to.equal('0.0001');
    expect(pyRepr(1e16)).to.equal('1e+16');
    expect(pyRepr(123.25)).to.equal('123.25');
    expect(pyRepr(NaN)).to.equal('nan');
    expect(pyRepr(-Infinity)).to.equal('-inf');
  });

  it("pyFixed matches '{:.4f}', ties to even where JS rounds up", function () {
    expect(pyFixed(0.93321, 4)).to.equal('0.9332');
    expect(pyFixed(0.99995, 4)).to.equal('1.0000'); // stored just above the tie (Python agrees)
    expect(pyFixed(0.00015, 4)).to.equal((0.00015).toFixed(4)); // not an exact tie: plain toFixed
    expect(pyFixed(1, 4)).to.equal('1.0000');
    // Exact binary ties: 1/32, 3/32, 5/32.
    expect((0.03125).toFixed(4)).to.equal('0.0313');
    expect(pyFixed(0.03125, 4)).to.equal('0.0312');
    expect(pyFixed(0.09375, 4)).to.equal('0.0938');
    expect(pyFixed(0.15625, 4)).to.equal('0.1562');
    expect(pyFixed(-0.03125, 4)).to.equal('-0.0312');
    expect(pyFixed(0.5, 0)).to.equal('0');
    expect(pyFixed(1.5, 0)).to.equal('2');
    expect(pyFixed(NaN, 4)).to.equal('nan');
  });

  it('roundHalfEven is Python round()', function () {
    expect([0.5, 1.5, 2.5, 500, 9500, 2.4, 2.6].map(roundHalfEven)).to.deep.equal([0, 2, 2, 500, 9500, 2, 3]);
  });
});

describe('eval/metrics: overlap and pooled Dice', function () {
  it('counts intersection and union of masks binarised > 0', function () {
    const pred = Uint8Array.from([0, 255, 1, 0, 7, 0]);
    const gt = Uint8Array.from([0, 1, 0, 1, 1, 0]);
    expect(overlap(pred, gt)).to.deep.equal({ inter: 2, union: 4 });
    expect(frameDice({ inter: 2, union: 4 })).to.equal(4 / 6);
    expect(() => overlap(pred, gt.subarray(1))).to.throw(/sizes differ/);
  });

  it('pools over frames instead of averaging per-frame scores', function () {
    const items = [
      { inter: 10, union: 10 },
      { inter: 0, union: 90 },
    ];
    // mean of per-frame dice would be 0.5; pooled is 2*10/(100+10)
    expect(pooledDice(items)).to.equal(20 / 110);
    expect(pooledDice([{ inter: 0, union: 0 }])).to.be.NaN;
  });
  it('DSC from pooled counts with smp smoothing, the pooled Dice loss from soft sums', () => {
    expect(dscFromCounts(10, 2, 3)).to.be.closeTo(20 / 25, 1e-9);
    expect(dscFromCounts(0, 0, 0)).to.equal(1);
    expect(diceLossFromSums(5, 12, 6)).to.be.closeTo(1 - 10 / 12, 1e-12);
    expect(diceLossFromSums(5, 12, 0)).to.equal(0);
  });
});

describe('eval/bootstrap', function () {
  const items = Array.from({ length: 40 }, (_, k) => ({
    inter: 50 + ((k * 37) % 23),
    union: 80 + ((k * 11) % 17),
  }));

  it('gives the pooled estimate and upstream (90 %) and 95 % percentile intervals', function () {
    const r = bootstrapPooledDice(items, 10000, new Rng(1));
    expect(r.estimate).to.equal(pooledDice(items));
    expect(r.resamples).to.equal(10000);
    expect(r.items).to.equal(40);
    expect(r.ci95[0]).to.be.below(r.ci90[0]);
    expect(r.ci90[0]).to.be.below(r.estimate);
    expect(r.ci90[1]).to.be.above(r.estimate);
    expect(r.ci95[1]).to.be.above(r.ci90[1]);
  });

  it('indexes the sorted statistics as upstream: sorted[500] and sorted[9500] of 10000', function () {
    const sorted = Float64Array.from({ length: 10000 }, (_, i) => i);
    expect(percentileInterval(sorted, 0.05, 0.95)).to.deep.equal([500, 9500]);
    expect(percentileInterval(sorted, 0.025, 0.975)).to.deep.equal([250, 9750]);
    // Python's round(0.5) = 0 and round(9.5) = 10, clamped to the last index.
    expect(percentileInterval([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.05, 0.95)).to.deep.equal([0, 9]);
  });

  it('resamples items with replacement: two items give DSC 0, 2/3 or 1 in proportions 1:2:1', function () {
    const two = [
      { inter: 0, union: 10 },
      { inter: 10, union: 10 },
    ];
    const r = bootstrapPooledDice(two, 10000, new Rng(5));
    expect(r.estimate).to.equal(20 / 30);
    // Lowest quarter is 0, top quarter 1: both intervals span [0, 1].
    expect(r.ci90).to.deep.equal([0, 1]);
    expect(r.ci95).to.deep.equal([0, 1]);
  });

  it('each resample scores the pooled DSC of its draw: intervals worked out for seed 7', function () {
    // Eight frames alternate between a miss (I 0, U 100) and a small perfect frame (I = U = 10),
    // so a resample's pooled DSC depends only on how many misses b it drew:
    // 2 * 10 (8 - b) / (100 b + 2 * 10 (8 - b)); the mean of per-frame Dice would be (8 - b) / 8.
    const frames = Array.from({ length: 8 }, (_, k) =>
      k % 2 ? { inter: 10, union: 10 } : { inter: 0, union: 100 },
    );
    const pooledWithMisses = (b: number) => (20 * (8 - b)) / (100 * b + 20 * (8 - b));
    // Replay the draws: each resample takes 8 indices floor(u * 8) from the seeded stream.
    const rng = new Rng(7);
    const expected = Array.from({ length: 10000 }, () => {
      let misses = 0;
      for (let k = 0; k < 8; k++) if (Math.floor(rng.uniform() * 8) % 2 === 0) misses++;
      return pooledWithMisses(misses);
    }).sort((a, b) => a - b);
    const r = bootstrapPooledDice(frames, 10000, new Rng(7));
    expect(r.estimate).to.equal(pooledWithMisses(4)); // 80 / 480
    expect(r.ci90).to.deep.equal([expected[500], expected[9500]]);
    expect(r.ci95).to.deep.equal([expected[250], expected[9750]]);
    // The values themselves: b = 6 misses at the 5th percentile, 2 at the 95th (binomial(8, 1/2)).
    expect(r.ci90).to.deep.equal([pooledWithMisses(6), pooledWithMisses(2)]);
    expect(r.ci90[1]).to.be.closeTo(120 / 320, 1e-15);
  });

  it('is reproducible with a seed and differs with another seed', function () {
    const a = bootstrapPooledDice(items, 2000, new Rng(42));
    const b = bootstrapPooledDice(items, 2000, new Rng(42));
    const c = bootstrapPooledDice(items, 2000, new Rng(43));
    expect(b).to.deep.equal(a);
    expect([c.ci90, c.ci95]).to.not.deep.equal([a.ci90, a.ci95]);
  });

  it('gives [1, 1] for perfect frames', function () {
    const r = bootstrapPooledDice(
      [
        { inter: 5, union: 5 },
        { inter: 9, union: 9 },
      ],
      1000,
      new Rng(0),
    );
    expect([r.estimate, ...r.ci90, ...r.ci95]).to.deep.equal([1, 1, 1, 1, 1]);
  });

  it('rejects a non-positive resample count', function () {
    expect(() => bootstrapPooledDice(items, 0, new Rng(0))).to.throw(/positive integer/);
  });
});
