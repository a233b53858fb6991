#!/usr/bin/env node
import './no-telemetry.js'; // first: before onnxruntime-node loads
import { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalizeFlagNames } from './flags.js';
// Each command lives in its own file and exports `register(program)`.
import { register as registerEvaluate } from './evaluate.js';
import { register as registerSynth } from './synth.js';
import { register as registerBuildGraph } from './build-graph.js';
import { register as registerOrtTrain } from './ort-train.js';
import { register as registerPredict } from './predict.js';
import { register as registerSegmentVideo } from './segment-video.js';
import { register as registerDemo } from './demo.js';
import { register as registerImportCheckpoint } from './import-checkpoint.js';
import { register as registerServe } from './serve.js';
import { register as registerSegmentBatch } from './segment-batch.js';
import { register as registerMergeBatch } from './merge-batch.js';
import { register as registerCamus } from './camus.js';
// COMMANDS-IMPORTS (keep this marker: new commands add their import above it)

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('unilvseg')
    .description('Left-ventricle segmentation of echo videos with ONNX graphs (UniLVSeg / SimLVSeg)')
    .showHelpAfterError();
  registerEvaluate(program);
  registerSynth(program);
  registerBuildGraph(program);
  registerOrtTrain(program);
  registerPredict(program);
  registerSegmentVideo(program);
  registerDemo(program);
  registerImportCheckpoint(program);
  registerServe(program);
  registerSegmentBatch(program);
  registerMergeBatch(program);
  registerCamus(program);
  // COMMANDS-REGISTER (keep this marker: new commands add `registerX(program);` above it)
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(normalizeFlagNames(argv), { from: 'node' });
}

// Run when executed as the `unilvseg` script (also through npm's bin symlink), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).catch((e: unknown) => {
    console.error(`unilvseg: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
