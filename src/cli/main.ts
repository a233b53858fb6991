#!/usr/bin/env node
import { Command } from 'commander';
import { normalizeFlagNames } from './flags.js';
// Each command lives in its own file and exports `register(program)`.
import { register as registerSynth } from './synth.js';
// COMMANDS-IMPORTS (keep this marker: new commands add their import above it)

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('unilvseg')
    .description('Left-ventricle segmentation of echo videos with ONNX graphs (UniLVSeg / SimLVSeg)')
    .showHelpAfterError();
  registerSynth(program);
  // COMMANDS-REGISTER (keep this marker: new commands add `registerX(program);` above it)
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(normalizeFlagNames(argv), { from: 'node' });
}

// Run when executed as a script (not when imported by tests).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/unilvseg')) {
  main(process.argv).catch((e: unknown) => {
    console.error(`unilvseg: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
