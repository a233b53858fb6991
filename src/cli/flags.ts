import { Command, Option } from 'commander';
import { EXECUTION_PROVIDERS } from '../onnx/runtime.js';
import { EXIT_SKIPPED } from '../util/failures.js';

/**
 * The upstream scripts spell flags in snake_case (`--data_path`); ours are kebab-case
 * (`--data-path`). Rewriting the flag names before commander parses them makes both spellings
 * work everywhere, so upstream README commands run unchanged.
 */
export function normalizeFlagNames(argv: string[]): string[] {
  return argv.map((arg) => {
    if (!arg.startsWith('--')) return arg;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const rest = eq < 0 ? '' : arg.slice(eq);
    return name.replace(/_/g, '-') + rest;
  });
}

/** Parsers for commander options. */
export const parse = {
  int(v: string): number {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`expected an integer, got "${v}"`);
    return n;
  },
  float(v: string): number {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`expected a number, got "${v}"`);
    return n;
  },
  /** For `--mean 0.1 0.2 0.3` (variadic options collect strings). */
  floats(v: string, prev: number[] | undefined): number[] {
    return [...(prev ?? []), parse.float(v)];
  },
};

/** --strict, the same in every batch command. */
export const STRICT_HELP =
  "stop at the first bad item (missing or corrupt video, malformed CSV number), upstream's behaviour";

/** How every batch command treats bad items, for --help. */
export const SKIP_HELP =
  'A bad item (a video listed but missing, corrupt, truncated or empty, a malformed number in a CSV row, tracings with ' +
  'one distinct frame) is named with the reason in failures.csv and skipped, the rest is processed, and the exit status ' +
  `is ${EXIT_SKIPPED} instead of 0; --strict stops at the first one instead.`;

/** --ep, the same in every command that runs a model (the providers src/onnx/runtime.ts resolves). */
export function epOption(): Option {
  return new Option(
    '--ep <ep>',
    'ONNX Runtime execution provider (auto: CUDA, else a GPU through WebGPU, else CPU)',
  )
    .choices(EXECUTION_PROVIDERS)
    .default('cpu');
}

/** --model, --checkpoint and --artifacts: where the weights of a command that runs a model come from. */
export function withModelSource(command: Command): Command {
  return command
    .option(
      '--model <path>',
      'model.onnx, an artifact-set folder, or a training run folder (its artifacts/model.onnx holds the best weights)',
    )
    .option(
      '--checkpoint <file>',
      'weights: .safetensors (e.g. runs/weak/best.safetensors, run with the artifact set next to it), or a Lightning .ckpt / torch.save state dict (imported on the fly; see import-checkpoint)',
    )
    .option(
      '--artifacts <dir>',
      'the artifact set of --checkpoint (default: <folder of the checkpoint>/artifacts)',
    );
}
