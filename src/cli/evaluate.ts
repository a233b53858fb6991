import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EVALUATE_DEFAULTS } from '../eval/evaluate.js';
import { runEvaluation } from '../eval/run.js';
import { parse } from './flags.js';

interface EvaluateFlags {
  dataDir: string;
  predictionDir: string;
  outputDir: string;
  seed: number;
  split: string;
  resamples: number;
  gallery: number;
  skipMissing?: boolean;
}

const pct = (x: number): string => (100 * x).toFixed(2);

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'Pooled Dice of test-set prediction PNGs against the EchoNet tracings with bootstrap intervals ' +
        "(upstream evaluate_bootstrap.py). Writes test_dice.csv and log.csv in upstream's format, " +
        'plus report.json and report.html.',
    )
    .requiredOption('--data-dir <dir>', 'EchoNet-Dynamic folder (FileList.csv, VolumeTracings.csv, Videos/)')
    .requiredOption(
      '--prediction-dir <dir>',
      "folder of <stem>_<frame>_esv.png (ED/large) and <stem>_<frame>_edv.png (ES/small) masks (upstream's swapped tags); " +
        'used as given when it exists, else a relative path is looked up under --data-dir as upstream does',
    )
    .requiredOption('--output-dir <dir>', 'where the results are written')
    .option(
      '--seed <n>',
      'bootstrap seed (same inputs and seed give the same intervals)',
      parse.int,
      EVALUATE_DEFAULTS.seed,
    )
    .option('--split <name>', 'split to evaluate', EVALUATE_DEFAULTS.split)
    .option('--resamples <n>', 'bootstrap resamples', parse.int, EVALUATE_DEFAULTS.resamples)
    .option('--gallery <n>', 'worst frames shown in report.html', parse.int, EVALUATE_DEFAULTS.gallery)
    .option(
      '--skip-missing',
      'leave out videos whose prediction PNG is missing, unreadable or not 112x112 (listed in the report) instead of failing',
    )
    .action(async (o: EvaluateFlags) => {
      const { evaluation, files } = await runEvaluation({ ...o, skipMissing: o.skipMissing ?? false });
      if (evaluation.predictionDirUnderDataDir)
        console.error(`predictions read from ${evaluation.predictionDirUsed} (under --data-dir)`);
      for (const w of evaluation.warnings) console.error(`warning: ${w}`);
      for (const k of evaluation.skipped) console.error(`skipped ${k.fileName}: ${k.problem}`);
      process.stdout.write(readFileSync(files.log, 'utf8'));
      const h = evaluation.headline;
      console.log(
        `95% intervals (2.5th-97.5th pct): overall ${pct(h.overall.ci95[0])}-${pct(h.overall.ci95[1])}, ` +
          `large ${pct(h.large.ci95[0])}-${pct(h.large.ci95[1])}, small ${pct(h.small.ci95[0])}-${pct(h.small.ci95[1])}`,
      );
      console.log(`wrote ${files.testDice}, ${files.log}, ${files.json}, ${files.html}`);
    });
}
