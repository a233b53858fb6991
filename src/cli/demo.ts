// `unilvseg demo` (npm run demo): parses the flags, runs src/demo/run.ts, prints the results.
import { Command } from 'commander';
import { DEFAULT_SEED } from '../defaults.js';
import type { BootstrapResult } from '../eval/bootstrap.js';
import { runDemo, type DemoOptions } from '../demo/run.js';
import { parse } from './flags.js';

const pct = (x: number) => (x * 100).toFixed(2);
const orNa = (x: number | null | undefined, f: (v: number) => string) =>
  x === null || x === undefined ? 'n/a' : f(x);

async function demo(o: DemoOptions): Promise<void> {
  const r = await runDemo(o);
  const line = (name: string, b: BootstrapResult) =>
    `  ${name.padEnd(8)} ${pct(b.estimate)}  (90% ${pct(b.ci90[0])}-${pct(b.ci90[1])}, 95% ${pct(b.ci95[0])}-${pct(b.ci95[1])})`;
  const t = r.segment.truth;
  console.log(`
UniLVSeg-ONNX demo finished in ${r.minutes.toFixed(1)} min.
Test DSC (pooled, %):
${line('overall', r.headline.overall)}
${line('ED', r.headline.large)}
${line('ES', r.headline.small)}
Whole-video segmentation of ${r.segment.videos} test videos against the synthetic per-frame truth:
  DSC over all frames: ${orNa(t?.dscAllFrames, pct)} %
  EF mean absolute error: ${orNa(t?.efMae, (v) => v.toFixed(1))} points (${t?.videosWithoutBeat ?? 0} video(s) without a detected beat left out)
  ED / ES frame error: ${orNa(t?.edErrorFrames, (v) => v.toFixed(1))} / ${orNa(t?.esErrorFrames, (v) => v.toFixed(1))} frames (mean absolute over detected beats; missed ED ${t?.ed.missed ?? 0} of ${t?.ed.countable ?? 0}, ES ${t?.es.missed ?? 0} of ${t?.es.countable ?? 0})
Report:        ${r.files.report}
Overlay video: ${r.files.overlays}
Training logs: ${r.files.logs.join(', ')} (curves.svg beside them)`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run the main job end to end on a small synthetic dataset (synth, SSL, weak training, predict, evaluate, segment-video)',
    )
    .option('--out <dir>', 'output folder', 'demo')
    .option('--videos <n>', 'synthetic videos', parse.int, 60)
    .option('--seed <n>', 'seed', parse.int, DEFAULT_SEED)
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
    .option(
      '--threads <n>',
      "ONNX Runtime intra-op threads for training (default: ONNX Runtime's, one per physical core); fix it to compare hosts",
      parse.int,
    )
    .addHelpText('after', '\nExample:\n  unilvseg demo --out demo --videos 60')
    .action(demo);
}
