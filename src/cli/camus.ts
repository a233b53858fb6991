// `unilvseg camus`: the paper's out-of-distribution test on the CAMUS release (upstream's
// scripts/camus/preprocess.py, seg_3d_test_get_predictions.py and evaluate_bootstrap*.py in one).
import { Command, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { CAMUS_VIEWS, type CamusView } from '../data/camus/dataset.js';
import type { CamusGrid } from '../data/camus/preprocess.js';
import type { BootstrapResult } from '../eval/bootstrap.js';
import { CAMUS_DEFAULTS, runCamus } from '../eval/camus/run.js';
import type { CamusSummary } from '../eval/camus/summary.js';
import { loadSegmentationModel } from '../infer/model.js';
import type { ExecutionProvider } from '../onnx/runtime.js';
import { EXIT_SKIPPED } from '../util/failures.js';
import { epOption, parse, withModelSource } from './flags.js';

interface CamusFlags {
  dataPath: string;
  out: string;
  model?: string;
  checkpoint?: string;
  artifacts?: string;
  view: CamusView;
  quality?: string[];
  resize: CamusGrid;
  seed: number;
  resamples: number;
  batchSize: number;
  gallery: number;
  ep: ExecutionProvider;
  threads?: number;
}

/** `--quality good,medium,poor` or upstream's `--quality good medium poor`. */
function qualities(v: string, prev: string[] | undefined): string[] {
  return [
    ...(prev ?? []),
    ...v
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter(Boolean),
  ];
}

/** --checkpoint takes a model.onnx or a folder as well as a checkpoint file. */
function modelSource(o: CamusFlags): { model?: string; checkpoint?: string } {
  const c = o.checkpoint;
  if (c && !o.model && existsSync(c) && (statSync(c).isDirectory() || /\.onnx$/i.test(c)))
    return { model: c };
  return { model: o.model, checkpoint: c };
}

const pct = (x: number) => (100 * x).toFixed(2);
function line(name: string, r: BootstrapResult | null): string {
  if (!r) return `  ${name.padEnd(22)} n/a`;
  return `  ${name.padEnd(22)} ${pct(r.estimate)}  (90% ${pct(r.ci90[0])}-${pct(r.ci90[1])}, 95% ${pct(r.ci95[0])}-${pct(r.ci95[1])})  ${r.items} frame${r.items === 1 ? '' : 's'}`;
}

function printSummary(s: CamusSummary): void {
  const d = s.dsc;
  const p = s.patients;
  console.log(
    `camus ${s.settings.view}, ${s.settings.resize} preprocessing: ${p.evaluated} patients (${p.failed} skipped, ${p.excludedByQuality} excluded by quality), ${s.frames} traced frames`,
  );
  console.log('DSC (%), pooled, bootstrap intervals:');
  for (const [n, r] of [
    ['Overall', d.overall],
    ['ED', d.ed],
    ['ES', d.es],
    ['Middle', d.middle],
  ] as const)
    console.log(line(n, r));
  console.log('by LV size:');
  console.log(line('Large', d.bySize.large));
  console.log(line('Small', d.bySize.small));
  console.log('by image quality (overall):');
  for (const [q, g] of Object.entries(d.byQuality))
    console.log(line(`${q} (${g.patients} patient${g.patients === 1 ? '' : 's'})`, g.overall));
  const e = s.ef.predictedVsCamus;
  const t = s.ef.tracedVsCamus;
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(1));
  console.log(
    `EF (single-plane discs) vs CAMUS LVef: predicted bias ${f(e.bias)} points (MAE ${f(e.meanAbs)}, n=${e.n}); traced masks bias ${f(t.bias)} (MAE ${f(t.meanAbs)})`,
  );
}

export function register(program: Command): void {
  withModelSource(
    program
      .command('camus')
      .description(
        "Out-of-distribution test on CAMUS (upstream's scripts/camus): segment every frame of each patient's " +
          'half sequence, score the traced frames (pooled DSC with bootstrap intervals: Overall, ED, ES, Middle, ' +
          "by LV size and by image quality) and compare EF with the release's LVef.",
      )
      .requiredOption(
        '--data-path <dir>',
        "the CAMUS root (holding database_nifti/, or the MetaImage release's training/), or that folder itself",
      )
      .requiredOption(
        '--out <dir>',
        'output folder (predictions/, frames.csv, patients.csv, summary.json, report.html, failures.csv, camus.jsonl)',
      ),
  )
    .addOption(
      new Option('--view <view>', 'which view to evaluate')
        .choices([...CAMUS_VIEWS])
        .default(CAMUS_DEFAULTS.view),
    )
    .option('--quality <list>', 'ImageQuality values to keep, e.g. good,medium,poor (default all)', qualities)
    .addOption(
      new Option(
        '--resize <mode>',
        "upstream: every frame shrunk to 112x112 (OpenCV INTER_AREA, labels nearest), DSC on that grid; native: sector crop and square padding as segment-video, masks mapped back, DSC on the file's grid",
      )
        .choices(['upstream', 'native'])
        .default(CAMUS_DEFAULTS.grid),
    )
    .option('--seed <n>', 'bootstrap seed', parse.int, CAMUS_DEFAULTS.seed)
    .option('--resamples <n>', 'bootstrap resamples', parse.int, CAMUS_DEFAULTS.resamples)
    .option('--batch-size <n>', 'windows per forward pass', parse.int, CAMUS_DEFAULTS.batchSize)
    .option('--gallery <n>', 'worst frames shown in report.html', parse.int, CAMUS_DEFAULTS.gallery)
    .addOption(epOption())
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', parse.int)
    .addHelpText(
      'after',
      `
--checkpoint takes a model.onnx, an artifact-set or run folder, or a checkpoint file (.safetensors with its set,
a Lightning .ckpt or torch.save file imported on the fly). A patient whose files are missing, corrupt or disagree
(no _gt, labels of another size or frame count, NbFrame not the file's) is named in failures.csv and skipped; the
exit status is then ${EXIT_SKIPPED}.

Examples:
  unilvseg camus --data_path /data/CAMUS_public --checkpoint artifacts/simlvseg-3d --out camus/4ch
  unilvseg camus --data_path /data/CAMUS_public --checkpoint epoch=59-step=14520.ckpt --view 2CH --quality good,medium --out camus/2ch
  unilvseg camus --data_path demo/camus --checkpoint demo/weak --resize native --out demo/camus-eval-native`,
    )
    .action(async (o: CamusFlags) => {
      const model = await loadSegmentationModel({
        ...modelSource(o),
        artifacts: o.artifacts,
        ep: o.ep,
        threads: o.threads,
      });
      try {
        process.stderr.write(`camus: ${model.describe}\n`);
        const { summary, failures } = await runCamus({
          dataPath: o.dataPath,
          out: o.out,
          model,
          view: o.view,
          qualities: o.quality,
          grid: o.resize,
          seed: o.seed,
          resamples: o.resamples,
          batchSize: o.batchSize,
          gallery: o.gallery,
        });
        printSummary(summary);
        console.log(`wrote ${Object.values(summary.outputs).join(', ')}`);
        if (failures > 0) process.exitCode = EXIT_SKIPPED;
      } finally {
        await model.release();
      }
    });
}
