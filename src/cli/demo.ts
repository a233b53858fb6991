// `unilvseg demo` (npm run demo): the main job end to end on a built-in synthetic dataset:
// synth -> SSL pre-training -> weak supervision -> predict -> evaluate -> segment-video.
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from './flags.js';

interface DemoOptions {
  out: string;
  videos: number;
  seed: number;
  encoder: string;
  widthMult: number;
  frames: number;
  batchSize: number;
  sslEpochs: number;
  weakEpochs: number;
  numWorkers: number;
  lr: number;
}

interface Interval {
  estimate: number;
  ci90: number[];
  ci95: number[];
}
/** The parts of evaluate's report.json and segment-video's batch summary.json the demo prints. */
interface EvaluationReport {
  headline: { overall: Interval; large: Interval; small: Interval };
}
interface SegmentReport {
  videos: number;
  truth?: {
    dscAllFrames?: number | null;
    efMae?: number | null;
    edErrorFrames?: number | null;
    esErrorFrames?: number | null;
  };
}
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const num = (x: number | null | undefined, f: (v: number) => string) =>
  x === null || x === undefined ? 'n/a' : f(x);
const fmt = (x: number) => (x * 100).toFixed(2);

async function step(title: string, argv: string[]): Promise<void> {
  const { main } = await import('./main.js');
  process.stderr.write(`\n== ${title}\n   unilvseg ${argv.join(' ')}\n`);
  await main(['node', 'unilvseg', ...argv]);
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const out = resolve(o.out);
  const data = join(out, 'data');
  const started = Date.now();
  const model = [
    '--encoder',
    o.encoder,
    '--width_mult',
    String(o.widthMult),
    '--frames',
    String(o.frames),
    '--batch_size',
    String(o.batchSize),
    '--num_workers',
    String(o.numWorkers),
    '--seed',
    String(o.seed),
    '--lr',
    String(o.lr),
  ];
  if (!existsSync(join(data, 'FileList.csv')))
    await step('1/6 synthetic EchoNet-format dataset', [
      'synth',
      '--out',
      data,
      '--videos',
      String(o.videos),
      '--seed',
      String(o.seed),
      '--contact-sheet',
      join(out, 'contact-sheet.png'),
    ]);
  await step('2/6 temporal-masking pre-training (SSL)', [
    'ort-train',
    '--phase',
    'ssl',
    '--data_path',
    data,
    '--out',
    join(out, 'ssl'),
    '--epochs',
    String(o.sslEpochs),
    '--val_check_interval',
    '0.5',
    ...model,
  ]);
  await step('3/6 weak supervision from the ED/ES tracings', [
    'ort-train',
    '--phase',
    'weak',
    '--data_path',
    data,
    '--out',
    join(out, 'weak'),
    '--checkpoint',
    join(out, 'ssl', 'best.safetensors'),
    '--epochs',
    String(o.weakEpochs),
    '--val_check_interval',
    '0.5',
    ...model,
  ]);
  const modelPath = join(out, 'weak', 'artifacts', 'model.onnx');
  await step('4/6 test-set predictions (upstream PNG names)', [
    'predict',
    '--data_path',
    data,
    '--model',
    modelPath,
    '--save_dir',
    join(out, 'predictions'),
    '--batch_size',
    String(o.batchSize),
  ]);
  await step('5/6 bootstrap evaluation', [
    'evaluate',
    '--data_dir',
    data,
    '--prediction_dir',
    join(out, 'predictions'),
    '--output_dir',
    join(out, 'evaluation'),
    '--seed',
    String(o.seed),
  ]);
  await step('6/6 whole-video segmentation, ED/ES and EF on the test videos', [
    'segment-video',
    '--data_path',
    data,
    '--split',
    'test',
    '--model',
    modelPath,
    '--save_path',
    join(out, 'segment'),
    '--truth',
    data,
  ]);

  const h = readJson<EvaluationReport>(join(out, 'evaluation', 'report.json')).headline;
  const seg = readJson<SegmentReport>(join(out, 'segment', 'summary.json'));
  const line = (name: string, r: Interval) =>
    `  ${name.padEnd(8)} ${fmt(r.estimate)}  (90% ${fmt(r.ci90[0])}-${fmt(r.ci90[1])}, 95% ${fmt(r.ci95[0])}-${fmt(r.ci95[1])})`;
  const t = seg.truth ?? {};
  console.log(`
UniLVSeg-ONNX demo finished in ${((Date.now() - started) / 60000).toFixed(1)} min.
Test DSC (pooled, %):
${line('overall', h.overall)}
${line('ED', h.large)}
${line('ES', h.small)}
Whole-video segmentation of ${seg.videos} test videos against the synthetic per-frame truth:
  DSC over all frames: ${num(t.dscAllFrames, fmt)} %
  EF mean absolute error: ${num(t.efMae, (v) => v.toFixed(1))} points
  ED / ES frame error: ${num(t.edErrorFrames, (v) => v.toFixed(1))} / ${num(t.esErrorFrames, (v) => v.toFixed(1))} frames (mean absolute)
Report:        ${join(out, 'evaluation', 'report.html')}
Overlay video: ${join(out, 'segment', '<video>', 'overlay.mp4')}
Training logs: ${join(out, 'ssl', 'log.jsonl')}, ${join(out, 'weak', 'log.jsonl')} (curves.svg beside them)`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run the main job end to end on a small synthetic dataset (synth, SSL, weak training, predict, evaluate, segment-video)',
    )
    .option('--out <dir>', 'output folder', 'demo')
    .option('--videos <n>', 'synthetic videos', parse.int, 60)
    .option('--seed <n>', 'seed', parse.int, 42)
    .option('--encoder <name>', 'model', '3d_unet_small')
    .option('--width-mult <w>', 'channel width multiplier', parse.float, 0.25)
    .option('--frames <T>', 'frames per clip', parse.int, 16)
    .option('--batch-size <n>', 'batch size', parse.int, 4)
    .option('--ssl-epochs <n>', 'SSL epochs', parse.int, 2)
    .option('--weak-epochs <n>', 'weak-supervision epochs', parse.int, 10)
    .option(
      '--lr <f>',
      'learning rate of both phases (upstream 3e-4 is tuned for 60 epochs of EchoNet)',
      parse.float,
      1e-3,
    )
    .option('--num-workers <n>', 'data worker threads', parse.int, 1)
    .addHelpText('after', '\nExample:\n  unilvseg demo --out demo --videos 60')
    .action(async (a: DemoOptions) => runDemo(a));
}
