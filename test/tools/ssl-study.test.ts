import { expect } from 'chai';
import { planCells, schedule } from '../../tools/ssl-study/plan.js';
import { groupResults, pairedDifference } from '../../tools/ssl-study/report.js';
import type { CellResult } from '../../tools/ssl-study/run.js';

const run = (init: string, seed: number, overlaps: [number, number][]): CellResult => {
  const i = overlaps.reduce((a, o) => a + o[0], 0);
  const u = overlaps.reduce((a, o) => a + o[1], 0);
  return {
    key: `${init}-${seed}`,
    fraction: 0.1,
    init,
    seed,
    labelled: 8,
    steps: 60,
    bestStep: 60,
    valDsc: 0,
    testDsc: (2 * i) / (u + i),
    overlaps,
    seconds: 0,
  };
};

describe('tools/ssl-study: plan and statistics', () => {
  it('schedules about the step budget: short epochs validate every n-th epoch, long ones k times', () => {
    expect(schedule(2, 60, 4)).to.deep.equal({ epochs: 32, checkValEveryNEpoch: 8, valCheckInterval: 1 });
    expect(schedule(37, 60, 4)).to.deep.equal({ epochs: 2, checkValEveryNEpoch: 1, valCheckInterval: 0.5 });
  });

  it('plans the main inits at every fraction and the variants only where asked, 10 % first', () => {
    const cells = planCells({
      fractions: [0.1, 1],
      sslEpochs: [2, 10],
      seeds: [0, 1],
      variants: ['full-newhead'],
      variantFractions: [0.1],
    });
    expect(cells.filter((c) => c.fraction === 0.1)).to.have.length(2 * 6);
    expect(cells.filter((c) => c.fraction === 1)).to.have.length(2 * 5);
    expect(cells[0].key).to.equal('f10-random-s0');
    expect(cells.find((c) => c.key === 'f10-ssl10-full-newhead-s1')!.init.transfer.reinitHead).to.equal(true);
  });

  it('means over seeds, and a paired difference that is 0 against itself and positive for uniformly better frames', () => {
    const worse: [number, number][] = [
      [50, 100],
      [60, 100],
      [70, 100],
      [80, 100],
    ];
    const better = worse.map(([i, u]) => [i + 10, u - 10] as [number, number]);
    const groups = groupResults(
      [
        run('random', 0, worse),
        run('random', 1, worse),
        run('ssl10-full', 0, better),
        run('ssl10-full', 1, better),
      ],
      ['random', 'ssl10-full'],
    );
    expect(groups.map((g) => g.init)).to.deep.equal(['random', 'ssl10-full']);
    expect(groups[0].mean).to.be.closeTo((2 * 260) / 660, 1e-12);
    expect(groups[0].sd).to.equal(0);
    const self = pairedDifference(groups[0], groups[0])!;
    expect([self.diff, ...self.ci95]).to.deep.equal([0, 0, 0]);
    const d = pairedDifference(groups[1], groups[0])!;
    expect(d.diff).to.be.closeTo(groups[1].mean - groups[0].mean, 1e-12);
    expect(d.ci95[0]).to.be.above(0);
    expect(d.seeds).to.equal(2);
  });
});
