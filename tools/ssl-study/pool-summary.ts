// The pool study's results in the form docs/transfer.md shows them: per look and label count, one
// table of test DSC (per seed, mean, paired difference to random initialisation) and one table of
// the mean validation DSC during weak training at a few steps (the learning curves in numbers);
// above them, per look, an overview of every arm against random at every label count.
// Written next to table.md as summary.md, so a snapshot of the study is copied, not re-typed.
import { pairedSeedDifference, type PoolGroup } from './pool-report.js';
import { f3, meanSd, signed } from './report.js';

/** Steps the curve tables show: each column is the validation nearest to one of these (last: the end). */
const CURVE_STEPS = [80, 160, 240, 320, 440, Infinity];

const nearest = (steps: number[], target: number) =>
  target === Infinity
    ? Math.max(...steps)
    : steps.reduce((best, s) => (Math.abs(s - target) < Math.abs(best - target) ? s : best));

const diffText = (d: { diff: number; ci95: [number, number] }) =>
  `${signed(d.diff)} (${signed(d.ci95[0])} to ${signed(d.ci95[1])})`;

function dscTable(mine: PoolGroup[], labelled: number, labels: Record<string, string>): string[] {
  const random = mine.find((g) => g.init === 'random');
  const lines = [
    `| ${labelled} labelled videos, test DSC | seeds | per seed | mean (sd) | paired diff to random (95 %, seeds and frames) | seeds better |`,
    '|---|---|---|---|---|---|',
  ];
  for (const g of mine) {
    const d = random && g !== random ? pairedSeedDifference(g, random) : null;
    const mean = g.runs.length > 1 ? `${f3(g.mean)} (${g.sd.toFixed(3)})` : f3(g.mean);
    const diff = d ? diffText(d) : '–';
    const better = d ? `${d.wins} of ${d.seeds}` : '–';
    const perSeed = g.runs.map((r) => f3(r.testDsc)).join(', ');
    lines.push(
      `| ${labels[g.init] ?? g.init} | ${g.runs.length} | ${perSeed} | ${mean} | ${diff} | ${better} |`,
    );
  }
  return lines;
}

const pairedCell = (g: PoolGroup | undefined, random: PoolGroup | undefined): string => {
  const d = g && random ? pairedSeedDifference(g, random) : null;
  return d ? `${diffText(d)}, ${d.wins} of ${d.seeds}` : '–';
};

/**
 * One look at a glance: a row per arm, a column per label count; random's row gives its test DSC,
 * every other row the paired difference to random, its interval and the seeds that beat random.
 */
function overviewTable(mine: PoolGroup[], labels: Record<string, string>): string[] {
  const counts = [...new Set(mine.map((g) => g.labelled))];
  const inits = [...new Set(mine.map((g) => g.init))];
  const at = (init: string, labelled: number) => mine.find((g) => g.init === init && g.labelled === labelled);
  const lines = [
    `| arm | ${counts.map((n) => `${n} labelled videos`).join(' | ')} |`,
    `|---|${counts.map(() => '---|').join('')}`,
  ];
  for (const init of inits) {
    const cells = counts.map((n) => {
      const g = at(init, n);
      if (init !== 'random') return pairedCell(g, at('random', n));
      return g ? `${f3(g.mean)} (${g.runs.length} seed${g.runs.length === 1 ? '' : 's'})` : '–';
    });
    lines.push(`| ${labels[init] ?? init} | ${cells.join(' | ')} |`);
  }
  return lines;
}

function curveTable(mine: PoolGroup[], labelled: number, labels: Record<string, string>): string[] {
  const steps = [...new Set(mine.flatMap((g) => g.runs.flatMap((r) => r.curve.map(([s]) => s))))];
  if (!steps.length) return [];
  const columns = [...new Set(CURVE_STEPS.map((t) => nearest(steps, t)))];
  const lines = [
    `| step (${labelled} videos) | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---|').join('')}`,
  ];
  for (const { init, runs } of mine) {
    // each run's validation nearest to the column's step (runs of one cell share their schedule)
    const at = (step: number) =>
      meanSd(
        runs.map((r) => {
          const s = nearest(
            r.curve.map(([k]) => k),
            step,
          );
          return r.curve.find(([k]) => k === s)![1];
        }),
      ).mean;
    lines.push(`| ${labels[init] ?? init} (${runs.length}) | ${columns.map((c) => f3(at(c))).join(' | ')} |`);
  }
  return lines;
}

/** summary.md: for each look and label count, the test-DSC table and the learning-curve table. */
export function poolSummaryMarkdown(groups: PoolGroup[], labels: Record<string, string>): string {
  const out: string[] = [];
  const cells = groups.reduce((n, g) => n + g.runs.length, 0);
  out.push(`# Pool study: ${cells} cells`, '');
  out.push('Made by `ssl-study.js pool --report` from results.jsonl; docs/transfer.md explains the columns.');
  const byLook = [...new Set(groups.map((g) => g.look))];
  for (const look of byLook) {
    out.push('', `## Look "${look}": every arm`, '');
    out.push(
      "Random initialisation's test DSC (mean of its seeds); every other arm: the paired difference to it (95 %, seeds and frames), and the seeds in which the arm beat random.",
      '',
    );
    out.push(
      ...overviewTable(
        groups.filter((g) => g.look === look),
        labels,
      ),
    );
  }
  for (const look of byLook) {
    const counts = [...new Set(groups.filter((g) => g.look === look).map((g) => g.labelled))];
    for (const labelled of counts) {
      const mine = groups.filter((g) => g.look === look && g.labelled === labelled);
      out.push('', `## Look "${look}", ${labelled} labelled videos`, '');
      out.push(...dscTable(mine, labelled, labels), '');
      out.push(
        'Mean validation DSC of the seeds during weak training, at the validation nearest each step:',
        '',
      );
      out.push(...curveTable(mine, labelled, labels));
    }
  }
  return out.join('\n') + '\n';
}
