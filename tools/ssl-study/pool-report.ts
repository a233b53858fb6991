// The pool study's tables and plots, made from results.jsonl and ssl.jsonl alone (whatever has
// finished): test DSC per look, label count and initialisation, with intervals that resample the
// seeds as well as the test frames, the paired difference to random initialisation, learning
// curves, and test DSC against the number of labelled videos.
import { join } from 'node:path';
import { diceFromOverlap, type Overlap } from '../../src/eval/metrics.js';
import { percentileInterval } from '../../src/eval/bootstrap.js';
import { lineChartSvg } from '../../src/eval/plot.js';
import { atomicWriteFile } from '../../src/util/atomic.js';
import { Rng } from '../../src/util/rng.js';
import type { PoolCellResult, SslResult } from './pool-run.js';
import { byInitOrder, COLORS, f3, RESAMPLES, seedGroups, signed, toOverlaps } from './report.js';

export interface PoolGroup {
  look: string;
  labelled: number;
  init: string;
  runs: PoolCellResult[];
  mean: number;
  sd: number;
  /** 95 % interval of the mean over seeds: seeds and test frames resampled */
  ci95: [number, number];
}

/**
 * Two-stage bootstrap of the mean-over-seeds pooled test DSC, optionally as the difference of two
 * arms paired by seed: each resample draws the seeds with replacement and the test frames with
 * replacement (the same frames for every seed and both arms, since all runs score the same test
 * set), then averages the pooled DSC of the drawn frames over the drawn seeds. The interval thus
 * covers the luck of the seeds (initial weights, SSL run, sampling) as well as of the test frames.
 */
export function seedFrameBootstrap(
  arms: Overlap[][][],
  resamples: number,
  rng: Rng,
  combine: (perArm: number[]) => number = (v) => v[0],
): { estimate: number; ci95: [number, number] } {
  const seeds = arms[0].length;
  const frames = arms[0][0].length;
  if (arms.some((a) => a.length !== seeds || a.some((run) => run.length !== frames)))
    throw new Error('every arm needs the same seeds and the same test frames');
  const inter = arms.map((a) => a.map((run) => Float64Array.from(run, (o) => o.inter)));
  const union = arms.map((a) => a.map((run) => Float64Array.from(run, (o) => o.union)));
  const meanDsc = (k: number, seedIdx: ArrayLike<number>, frameIdx: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < seedIdx.length; i++) {
      const [is, us] = [inter[k][seedIdx[i]], union[k][seedIdx[i]]];
      let [ri, ru] = [0, 0];
      for (let j = 0; j < frameIdx.length; j++) [ri, ru] = [ri + is[frameIdx[j]], ru + us[frameIdx[j]]];
      sum += diceFromOverlap(ri, ru);
    }
    return sum / seedIdx.length;
  };
  const allSeeds = Array.from({ length: seeds }, (_, i) => i);
  const allFrames = Array.from({ length: frames }, (_, i) => i);
  const estimate = combine(arms.map((_, k) => meanDsc(k, allSeeds, allFrames)));
  const stats = new Float64Array(resamples);
  const s = new Int32Array(seeds);
  const f = new Int32Array(frames);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < seeds; i++) s[i] = Math.floor(rng.uniform() * seeds);
    for (let j = 0; j < frames; j++) f[j] = Math.floor(rng.uniform() * frames);
    stats[r] = combine(arms.map((_, k) => meanDsc(k, s, f)));
  }
  stats.sort();
  return { estimate, ci95: percentileInterval(stats, 0.025, 0.975) };
}

export function groupPoolResults(results: PoolCellResult[], initOrder: string[]): PoolGroup[] {
  const byKey = new Map<string, PoolCellResult>();
  for (const r of results) byKey.set(r.key, r); // a cell run twice: its last line counts
  const inits = byInitOrder(initOrder);
  return seedGroups(byKey.values(), (r) => `${r.look}|${r.labelled}|${r.init}`)
    .map(({ runs, mean, sd }) => ({
      look: runs[0].look,
      labelled: runs[0].labelled,
      init: runs[0].init,
      runs,
      mean,
      sd,
      ci95: seedFrameBootstrap([runs.map(toOverlaps)], RESAMPLES, new Rng(42)).ci95,
    }))
    .sort((a, b) => a.look.localeCompare(b.look) || a.labelled - b.labelled || inits(a.init, b.init));
}

type PairedDifference = { diff: number; ci95: [number, number]; seeds: number; wins: number } | null;

/** Each pair's bootstrap once per report: table.md and summary.md's two tables all show it. */
const pairedCache = new WeakMap<PoolGroup, WeakMap<PoolGroup, PairedDifference>>();

/** Mean over the seeds both arms have of a minus b, with the two-stage bootstrap paired by seed. */
export function pairedSeedDifference(a: PoolGroup, b: PoolGroup): PairedDifference {
  const mine = pairedCache.get(a) ?? new WeakMap<PoolGroup, PairedDifference>();
  pairedCache.set(a, mine);
  if (!mine.has(b)) mine.set(b, bootstrapPair(a, b));
  return mine.get(b)!;
}

function bootstrapPair(a: PoolGroup, b: PoolGroup): PairedDifference {
  const seeds = a.runs.map((r) => r.seed).filter((s) => b.runs.some((r) => r.seed === s));
  if (!seeds.length) return null;
  const pick = (g: PoolGroup) => seeds.map((s) => toOverlaps(g.runs.find((r) => r.seed === s)!));
  const { estimate, ci95 } = seedFrameBootstrap([pick(a), pick(b)], RESAMPLES, new Rng(7), ([x, y]) => x - y);
  const dsc = (g: PoolGroup, s: number) => g.runs.find((r) => r.seed === s)!.testDsc;
  return {
    diff: estimate,
    ci95,
    seeds: seeds.length,
    wins: seeds.filter((s) => dsc(a, s) > dsc(b, s)).length,
  };
}

export function poolTableMarkdown(groups: PoolGroup[], labels: Record<string, string>): string {
  const lines = [
    '| look | labelled videos | init | test DSC per seed | mean (sd) | 95 % CI, seeds and frames | vs random, paired by seed: diff (95 % CI), seeds better |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const g of groups) {
    const random = groups.find((r) => r.look === g.look && r.labelled === g.labelled && r.init === 'random');
    const d = random && g !== random ? pairedSeedDifference(g, random) : null;
    lines.push(
      `| ${g.look} | ${g.labelled} | ${labels[g.init] ?? g.init} | ${g.runs.map((r) => `${f3(r.testDsc)} (s${r.seed})`).join(', ')} | ${f3(g.mean)} (${g.sd.toFixed(3)}) | ${f3(g.ci95[0])}-${f3(g.ci95[1])} | ${d ? `${signed(d.diff)} (${signed(d.ci95[0])} to ${signed(d.ci95[1])}), ${d.wins}/${d.seeds}` : '–'} |`,
    );
  }
  return lines.join('\n') + '\n';
}

export function sslTableMarkdown(ssl: SslResult[]): string {
  const lines = [
    '| SSL run | trained on | steps | best step | best val loss (MSE) |',
    '|---|---|---|---|---|',
  ];
  for (const r of [...ssl].sort((a, b) => a.key.localeCompare(b.key)))
    lines.push(`| ${r.key} | ${r.source} | ${r.steps} | ${r.bestStep} | ${r.bestValLoss.toFixed(5)} |`);
  return lines.join('\n') + '\n';
}

/**
 * Legend text of one arm: its label, plus its seed count at each label count when any of its points
 * has fewer seeds than the fullest arm, so a begun arm is not read as if it were as certain.
 */
export function armLegend(label: string, arm: PoolGroup[], fullSeeds: number): string {
  if (arm.every((g) => g.runs.length >= fullSeeds)) return label;
  return `${label} (seeds: ${arm.map((g) => `${g.runs.length} at ${g.labelled}`).join(', ')})`;
}

/** Test DSC (mean of seeds, two-stage 95 % CI) against the labelled videos, one line per init. */
export function dscVsLabelsSvg(
  groups: PoolGroup[],
  look: string,
  labels: Record<string, string>,
  inits: string[],
): string {
  const mine = groups.filter((g) => g.look === look);
  const counts = [...new Set(mine.map((g) => g.labelled))].sort((a, b) => a - b);
  const fullSeeds = Math.max(0, ...mine.map((g) => g.runs.length));
  const series = inits
    .map((init, k) => {
      const arm = mine.filter((g) => g.init === init);
      return {
        label: armLegend(labels[init] ?? init, arm, fullSeeds),
        color: COLORS[k % COLORS.length],
        points: arm.map((g) => ({ x: Math.log2(g.labelled), y: g.mean, lo: g.ci95[0], hi: g.ci95[1] })),
      };
    })
    .filter((s) => s.points.length > 0);
  return lineChartSvg(series, {
    title: `Test DSC vs labelled videos, look "${look}" (mean of seeds, 95 % CI over seeds and frames)`,
    xLabel: 'labelled training videos (log scale)',
    yLabel: 'test DSC (pooled, ED and ES)',
    xTicks: counts.map(Math.log2),
    xTickLabel: (t) => String(Math.round(2 ** t)),
    width: 760,
    height: 440,
  });
}

/** Validation DSC over optimizer steps, mean of the seeds at each validation, one line per init. */
export function learningCurvesSvg(
  results: PoolCellResult[],
  look: string,
  labelled: number,
  labels: Record<string, string>,
  inits: string[],
): string {
  const series = inits
    .map((init, k) => {
      const runs = results.filter((r) => r.look === look && r.labelled === labelled && r.init === init);
      const at = new Map<number, number[]>();
      for (const r of runs) for (const [step, v] of r.curve) at.set(step, [...(at.get(step) ?? []), v]);
      const points = [...at.entries()]
        .filter(([, v]) => v.length === runs.length)
        .sort((a, b) => a[0] - b[0])
        .map(([step, v]) => ({
          x: step,
          y: v.reduce((a, b) => a + b, 0) / v.length,
          lo: Math.min(...v),
          hi: Math.max(...v),
        }));
      return {
        label: `${labels[init] ?? init} (${runs.length} seeds)`,
        color: COLORS[k % COLORS.length],
        points,
      };
    })
    .filter((s) => s.points.length > 0);
  if (!series.length) return '';
  return lineChartSvg(series, {
    title: `Learning curves, look "${look}", ${labelled} labelled videos (mean of seeds; bars: lowest to highest seed)`,
    xLabel: 'optimizer step',
    yLabel: 'validation DSC',
    width: 760,
    height: 440,
  });
}

export function writePoolReport(
  dir: string,
  results: PoolCellResult[],
  ssl: SslResult[],
  labels: Record<string, string>,
  initOrder: string[],
): PoolGroup[] {
  const groups = groupPoolResults(results, initOrder);
  atomicWriteFile(join(dir, 'table.md'), poolTableMarkdown(groups, labels));
  atomicWriteFile(join(dir, 'ssl.md'), sslTableMarkdown(ssl));
  const looks = [...new Set(groups.map((g) => g.look))];
  const mainInits = initOrder.filter((i) => !i.endsWith('-newhead'));
  for (const look of looks) {
    atomicWriteFile(
      join(dir, `dsc-vs-labels-${look}.svg`),
      dscVsLabelsSvg(groups, look, labels, mainInits) + '\n',
    );
    for (const labelled of [...new Set(groups.filter((g) => g.look === look).map((g) => g.labelled))]) {
      const svg = learningCurvesSvg(results, look, labelled, labels, initOrder);
      if (svg) atomicWriteFile(join(dir, `curves-${look}-L${labelled}.svg`), svg + '\n');
    }
  }
  return groups;
}
