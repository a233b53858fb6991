import { join } from 'node:path';
import { atomicWriteFile } from '../util/atomic.js';
import type { BootstrapResult } from './bootstrap.js';
import type { Evaluation } from './evaluate.js';
import { pyFixed, pyRepr } from './pyformat.js';

/** test_dice.csv exactly as upstream writes it (Python str() of each float, `nan` for 0/0). */
function formatTestDiceCsv(ev: Evaluation): string {
  const lines = ['Filename, Overall, Large, Small'];
  for (const v of ev.videos)
    lines.push(`${v.fileName},${pyRepr(v.overall)},${pyRepr(v.large.dice)},${pyRepr(v.small.dice)}`);
  return lines.join('\n') + '\n';
}

function logLine(split: string, label: string, r: BootstrapResult): string {
  const f = (x: number): string => pyFixed(x, 4);
  return `${split} dice ${label} ${f(r.estimate)} (${f(r.ci90[0])} - ${f(r.ci90[1])})`;
}

/**
 * log.csv exactly as upstream writes it. Its interval is upstream's sorted[500]..sorted[9500],
 * which is a 90 % interval (5th-95th percentile) although the paper calls it a 95 % CI;
 * report.json and report.html also give the true 95 % interval.
 */
function formatLogCsv(ev: Evaluation): string {
  const split = ev.settings.split.toLowerCase();
  const h = ev.headline;
  return (
    [
      logLine(split, '(overall):', h.overall),
      logLine(split, '(large):  ', h.large),
      logLine(split, '(small):  ', h.small),
    ].join('\n') + '\n'
  );
}

/** Everything in machine-readable form (NaN is written as null, JSON having no NaN). */
function reportJson(ev: Evaluation): object {
  const frame = (s: Evaluation['videos'][number]['large']): object => ({
    frame: s.frame,
    inter: s.inter,
    union: s.union,
    dice: s.dice,
    prediction: s.prediction,
  });
  return {
    settings: ev.settings,
    predictionDirUsed: ev.predictionDirUsed,
    predictionDirUnderDataDir: ev.predictionDirUnderDataDir,
    definitions: {
      dice: 'pooled: 2*sum(I)/(sum(U)+sum(I)) over the frames of the set',
      overall: 'ED and ES frames pooled (2N items, resampled independently)',
      large: 'ED frames: last traced frame; prediction file <stem>_<frame>_esv.png (upstream tag swap)',
      small: 'ES frames: first traced frame; prediction file <stem>_<frame>_edv.png (upstream tag swap)',
      ci90: 'upstream interval sorted[round(0.05n)]..sorted[round(0.95n)]: 5th-95th percentile, a 90% interval',
      ci95: 'sorted[round(0.025n)]..sorted[round(0.975n)]: 2.5th-97.5th percentile',
    },
    headline: ev.headline,
    videos: ev.videos.map((v) => ({
      fileName: v.fileName,
      overall: v.overall,
      large: frame(v.large),
      small: frame(v.small),
    })),
    skipped: ev.skipped,
    warnings: ev.warnings,
  };
}

/** Write test_dice.csv, log.csv and report.json into the output folder (atomically each). */
export function writeTextOutputs(ev: Evaluation): { testDice: string; log: string; json: string } {
  const dir = ev.settings.outputDir;
  const paths = {
    testDice: join(dir, `${ev.settings.split.toLowerCase()}_dice.csv`),
    log: join(dir, 'log.csv'),
    json: join(dir, 'report.json'),
  };
  atomicWriteFile(paths.testDice, formatTestDiceCsv(ev));
  atomicWriteFile(paths.log, formatLogCsv(ev));
  atomicWriteFile(paths.json, JSON.stringify(reportJson(ev), null, 1) + '\n');
  return paths;
}
