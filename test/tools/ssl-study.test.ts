import { expect } from 'chai';
import { planCells, schedule } from '../../tools/ssl-study/plan.js';
import { groupResults, pairedDifference } from '../../tools/ssl-study/report.js';
import type { CellResult } from '../../tools/ssl-study/run.js';
import { planPoolCells, scaledMilestones } from '../../tools/ssl-study/pool-plan.js';
import {
  armLegend,
  groupPoolResults,
  seedFrameBootstrap,
  type PoolGroup,
} from '../../tools/ssl-study/pool-report.js';
import { runCurves, type PoolCellResult } from '../../tools/ssl-study/pool-run.js';
import { poolSummaryMarkdown } from '../../tools/ssl-study/pool-summary.js';
import type { Overlap } from '../../src/eval/metrics.js';
import { Rng } from '../../src/util/rng.js';

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

describe('tools/ssl-study pool: plan and the two-stage bootstrap', () => {
  it('orders random vs the largest pool over all seeds first, then own frames and the fresh head, then smaller pools', () => {
    const cells = planPoolCells({
      looks: ['echonet', 'hard'],
      labels: [8, 32],
      pools: [2000, 500],
      seeds: [0, 1],
      own: true,
      newHead: true,
    });
    expect(cells).to.have.length(2 * 2 * 2 * 8);
    expect(cells.slice(0, 6).map((c) => c.key)).to.deep.equal([
      'echonet-L8-random-s0',
      'echonet-L8-p2000-full-s0',
      'echonet-L8-p2000-encoder-s0',
      'echonet-L8-random-s1',
      'echonet-L8-p2000-full-s1',
      'echonet-L8-p2000-encoder-s1',
    ]);
    expect(cells[6].key).to.equal('echonet-L8-own-full-s0');
    expect(cells[6].ssl).to.deep.include({ key: 'echonet-own8-s0', labelled: 8 });
    expect(cells[8].init.transfer).to.include({ pretrainedType: 'pl_full', reinitHead: true });
    expect(cells[12].key).to.equal('echonet-L8-p500-full-s0');
    expect(cells[16].key).to.equal('echonet-L32-random-s0');
    expect(cells[1].ssl!.key).to.equal(cells.find((c) => c.key === 'echonet-L32-p2000-encoder-s0')!.ssl!.key);
    expect(cells.findIndex((c) => c.look === 'hard')).to.equal(32);
    expect(scaledMilestones(70)).to.deep.equal([45, 60]);
  });

  it('a seed-and-frame interval is wider than a frames-only one when seeds disagree; paired arms cancel', () => {
    const run = (base: number): Overlap[] =>
      Array.from({ length: 20 }, (_, i) => ({ inter: base + (i % 5), union: 100 }));
    const seeds = [run(40), run(70), run(50)];
    const both = seedFrameBootstrap([seeds], 2000, new Rng(1));
    const framesOnly = seedFrameBootstrap([[run(40), run(40), run(40)]], 2000, new Rng(1));
    expect(both.ci95[1] - both.ci95[0]).to.be.above(3 * (framesOnly.ci95[1] - framesOnly.ci95[0]));
    const same = seedFrameBootstrap([seeds, seeds], 500, new Rng(2), ([a, b]) => a - b);
    expect([same.estimate, ...same.ci95]).to.deep.equal([0, 0, 0]);
  });

  it("summary.md: an overview row per arm over the label counts ('–' where not run), then per label count per-seed DSC, paired difference, and curves at the nearest validations up to the last", () => {
    // every 40 steps to 600; random's curve is 0.5 + step / 2000, SSL's 0.01 lower; SSL's test
    // frames overlap less in both seeds, so it is better in 0 of 2; at 16 videos only random ran
    const cell = (init: string, seed: number, inter: number, labelled = 8): PoolCellResult =>
      ({
        key: `echonet-L${labelled}-${init}-s${seed}`,
        look: 'echonet',
        labelled,
        init,
        seed,
        testDsc: (2 * inter) / (100 + inter),
        overlaps: Array.from({ length: 10 }, () => [inter, 100]),
        curve: Array.from({ length: 15 }, (_, i) => [
          40 * (i + 1),
          0.5 + (40 * (i + 1)) / 2000 - (init === 'random' ? 0 : 0.01),
        ]),
      }) as unknown as PoolCellResult;
    const results = [
      cell('random', 0, 80),
      cell('random', 1, 82),
      cell('p2000-full', 0, 78),
      cell('p2000-full', 1, 79),
      cell('random', 0, 90, 16),
    ];
    const labels = { random: 'random initialisation', 'p2000-full': 'pool, every weight' };
    const md = poolSummaryMarkdown(groupPoolResults(results, ['random', 'p2000-full']), labels).split('\n');
    expect(md).to.include('| arm | 8 labelled videos | 16 labelled videos |');
    expect(md).to.include('| random initialisation | 0.895 (2 seeds) | 0.947 (1 seed) |');
    expect(md.find((l) => l.startsWith('| pool, every weight | -'))).to.match(
      /^\| pool, every weight \| -0\.015 \(-0\.0\d\d to -0\.0\d\d\), 0 of 2 \| – \|$/,
    );
    expect(md).to.include('## Look "echonet", 8 labelled videos');
    expect(md).to.include('| random initialisation | 2 | 0.889, 0.901 | 0.895 (0.009) | – | – |');
    const ssl = md.find((l) => l.startsWith('| pool, every weight | 2 |'))!;
    expect(ssl).to.match(
      /^\| pool, every weight \| 2 \| 0\.876, 0\.883 \| 0\.880 \(0\.004\) \| -0\.015 \(.*\) \| 0 of 2 \|$/,
    );
    expect(md).to.include('| step (8 videos) | 80 | 160 | 240 | 320 | 440 | 600 |');
    expect(md).to.include('| random initialisation (2) | 0.540 | 0.580 | 0.620 | 0.660 | 0.720 | 0.800 |');
    expect(md).to.include('| pool, every weight (2) | 0.530 | 0.570 | 0.610 | 0.650 | 0.710 | 0.790 |');
  });

  it('curves from a resumed log: each replayed step and validation counts once; a fresh start discards the earlier run', () => {
    const start = (resumedAt: unknown) => ({ event: 'start', resumedAt });
    const step = (n: number, loss: number) => ({ event: 'step', step: n, loss });
    const val = (n: number, v: number) => ({ event: 'val', step: n, val_dsc: v });
    const events = [
      start(null),
      step(1, 9),
      val(1, 0.1), // a run that was started over from scratch (with another schedule)
      start(null),
      step(1, 1),
      step(2, 3),
      val(2, 0.5),
      step(3, 5), // killed here; the checkpoint was at step 2
      start({ epoch: 1 }),
      step(3, 5),
      step(4, 7),
      val(4, 0.7),
    ];
    expect(runCurves(events, 'val_dsc')).to.deep.equal({
      curve: [
        [2, 0.5],
        [4, 0.7],
      ],
      loss: [
        [2, 2],
        [4, 6],
      ],
    });
  });

  it("the plot's legend gives an arm's seed counts only when a point has fewer seeds than the fullest arm", () => {
    const group = (labelled: number, seeds: number) =>
      ({ labelled, runs: Array.from({ length: seeds }, (_, seed) => ({ seed })) }) as unknown as PoolGroup;
    expect(armLegend('random', [group(8, 5), group(16, 5)], 5)).to.equal('random');
    expect(armLegend('own frames', [group(8, 5), group(16, 2)], 5)).to.equal(
      'own frames (seeds: 5 at 8, 2 at 16)',
    );
  });
});
