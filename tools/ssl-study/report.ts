// The SSL transfer study's table and plot, made from results.jsonl alone: test DSC per label
// fraction and initialisation (per seed, mean, and a bootstrap interval over the test frames of
// all seeds), and the difference to random initialisation with a paired bootstrap.
import { atomicWriteFile } from '../../src/util/atomic.js';
import { join } from 'node:path';
import { bootstrapPooledDice, percentileInterval } from '../../src/eval/bootstrap.js';
import { pooledDice, type Overlap } from '../../src/eval/metrics.js';
import { lineChartSvg } from '../../src/eval/plot.js';
import { Rng } from '../../src/util/rng.js';
import type { CellResult } from './run.js';

export const RESAMPLES = 10_000;
export const COLORS = [
  '#222222',
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
];

export interface Group {
  fraction: number;
  init: string;
  labelled: number;
  runs: CellResult[];
  mean: number;
  sd: number;
  /** bootstrap of the pooled DSC over the test frames of every seed */
  ci95: [number, number];
}

export const toOverlaps = (r: { overlaps: [number, number][] }): Overlap[] =>
  r.overlaps.map(([inter, union]) => ({ inter, union }));

/** Mean and sample standard deviation. */
export function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, sd };
}

/** Runs grouped by `keyOf`, each group's runs in seed order with the mean and sd of their test DSC. */
export function seedGroups<R extends { seed: number; testDsc: number }>(
  results: Iterable<R>,
  keyOf: (r: R) => string,
): { runs: R[]; mean: number; sd: number }[] {
  const groups = new Map<string, R[]>();
  for (const r of results) groups.set(keyOf(r), [...(groups.get(keyOf(r)) ?? []), r]);
  return [...groups.values()].map((runs) => {
    runs.sort((a, b) => a.seed - b.seed);
    return { runs, ...meanSd(runs.map((r) => r.testDsc)) };
  });
}

/** Orders initialisations as listed in `initOrder`, unlisted ones after them by name. */
export function byInitOrder(initOrder: string[]): (a: string, b: string) => number {
  const rank = (init: string) => (initOrder.includes(init) ? initOrder.indexOf(init) : initOrder.length);
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

export function groupResults(results: CellResult[], initOrder: string[]): Group[] {
  const inits = byInitOrder(initOrder);
  return seedGroups(results, (r) => `${r.fraction}|${r.init}`)
    .map(({ runs, mean, sd }) => ({
      fraction: runs[0].fraction,
      init: runs[0].init,
      labelled: runs[0].labelled,
      runs,
      mean,
      sd,
      ci95: bootstrapPooledDice(runs.flatMap(toOverlaps), RESAMPLES, new Rng(42)).ci95,
    }))
    .sort((a, b) => a.fraction - b.fraction || inits(a.init, b.init));
}

/**
 * Mean-over-seeds test DSC of `a` minus that of `b`, on the seeds both have, with a 95 % interval
 * from resampling the test frames (the same frames for both, so the test set's luck cancels).
 */
export function pairedDifference(
  a: Group,
  b: Group,
): { diff: number; ci95: [number, number]; seeds: number } | null {
  const seeds = a.runs.map((r) => r.seed).filter((s) => b.runs.some((r) => r.seed === s));
  if (!seeds.length) return null;
  const pick = (g: Group) => seeds.map((s) => toOverlaps(g.runs.find((r) => r.seed === s)!));
  const [oa, ob] = [pick(a), pick(b)];
  const n = oa[0].length;
  const meanDsc = (per: Overlap[][], idx: number[]) =>
    per.reduce((sum, frames) => sum + pooledDice(idx.map((i) => frames[i])), 0) / per.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(7);
  const stats = new Float64Array(RESAMPLES);
  for (let r = 0; r < RESAMPLES; r++) {
    const idx = Array.from({ length: n }, () => Math.floor(rng.uniform() * n));
    stats[r] = meanDsc(oa, idx) - meanDsc(ob, idx);
  }
  stats.sort();
  return {
    diff: meanDsc(oa, all) - meanDsc(ob, all),
    ci95: percentileInterval(stats, 0.025, 0.975),
    seeds: seeds.length,
  };
}

const pct = (f: number) => `${Math.round(f * 100)} %`;
export const f3 = (v: number) => v.toFixed(3);
export const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

export function tableMarkdown(groups: Group[], labels: Record<string, string>): string {
  const lines = [
    '| labels | init | test DSC per seed | mean (sd) | 95 % CI, frames of all seeds | vs random, paired 95 % CI |',
    '|---|---|---|---|---|---|',
  ];
  for (const g of groups) {
    const random = groups.find((r) => r.fraction === g.fraction && r.init === 'random');
    const d = random && g !== random ? pairedDifference(g, random) : null;
    lines.push(
      `| ${pct(g.fraction)} (${g.labelled} videos) | ${labels[g.init] ?? g.init} | ${g.runs.map((r) => f3(r.testDsc)).join(', ')} | ${f3(g.mean)} (${g.sd.toFixed(3)}) | ${f3(g.ci95[0])}-${f3(g.ci95[1])} | ${d ? `${signed(d.diff)} (${signed(d.ci95[0])} to ${signed(d.ci95[1])})` : '–'} |`,
    );
  }
  return lines.join('\n') + '\n';
}

export function plotSvg(groups: Group[], labels: Record<string, string>, lineInits: string[]): string {
  const fractions = [...new Set(groups.map((g) => g.fraction))].sort((a, b) => a - b);
  const x = (f: number) => Math.log10(f);
  const series = lineInits
    .map((init, k) => ({
      label: labels[init] ?? init,
      color: COLORS[k % COLORS.length],
      points: groups
        .filter((g) => g.init === init)
        .map((g) => ({ x: x(g.fraction), y: g.mean, lo: g.ci95[0], hi: g.ci95[1] })),
    }))
    .filter((s) => s.points.length > 0);
  return lineChartSvg(series, {
    title: 'Test DSC vs labelled fraction (mean of seeds, 95 % bootstrap CI)',
    xLabel: 'labelled training videos (log scale)',
    yLabel: 'test DSC (pooled, ED and ES)',
    xTicks: fractions.map(x),
    xTickLabel: (t) => pct(10 ** t),
    width: 720,
    height: 420,
  });
}

export function writeReport(
  dir: string,
  results: CellResult[],
  labels: Record<string, string>,
  initOrder: string[],
  lineInits: string[],
): Group[] {
  const groups = groupResults(results, initOrder);
  atomicWriteFile(join(dir, 'table.md'), tableMarkdown(groups, labels));
  atomicWriteFile(join(dir, 'dsc-vs-labels.svg'), plotSvg(groups, labels, lineInits) + '\n');
  return groups;
}
