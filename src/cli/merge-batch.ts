// `unilvseg merge-batch`: results.csv and failures.csv of a segment-batch output, and what is missing.
import { Command } from 'commander';
import { mergeBatch } from '../infer/batch/merge.js';
import { EXIT_INCOMPLETE, EXIT_SKIPPED } from '../util/failures.js';

const SHOW_MISSING = 20;

export function register(program: Command): void {
  program
    .command('merge-batch')
    .description(
      'Merge the shards of a segment-batch output into results.csv (a row per video: path, frames, fps, ED/ES frames, EF, ' +
        'EDV/ESV where the pixel spacing is known, status, seconds) and failures.csv; name the videos still missing.',
    )
    .requiredOption('--output <dir>', 'the --output folder of segment-batch')
    .option(
      '--input <path>',
      "check against this input (as segment-batch's --input) instead of the videos the shards' manifests list",
    )
    .option('--split <name>', 'FileList.csv input: only this split')
    .addHelpText(
      'after',
      `
Exit status: 0 every video done; ${EXIT_SKIPPED} all accounted for but some failed (failures.csv); ${EXIT_INCOMPLETE} videos of the input
have no result yet (not run, still running, or killed): re-run their shards, then merge again.

Example:
  unilvseg merge-batch --output out/echoes`,
    )
    .action((o: { output: string; input?: string; split?: string }) => {
      const r = mergeBatch(o);
      const missing = r.missing.length + r.unlisted;
      console.log(`${r.videos} videos: ${r.done} done, ${r.failed} failed, ${missing} missing`);
      if (r.neverStarted.length)
        console.log(
          `shards that never started: ${r.neverStarted.join(', ')}${r.unlisted ? ` (${r.unlisted} video(s) of theirs not named here; pass --input to name them)` : ''}`,
        );
      if (r.missing.length) {
        const more = r.missing.length > SHOW_MISSING ? ` and ${r.missing.length - SHOW_MISSING} more` : '';
        console.log(
          `missing: ${r.missing
            .slice(0, SHOW_MISSING)
            .map((v) => v.path)
            .join(', ')}${more} (status "missing" in results.csv)`,
        );
      }
      console.log(`wrote ${r.files.results}, ${r.files.failures}`);
      if (missing > 0) process.exitCode = EXIT_INCOMPLETE;
      else if (r.failed > 0) process.exitCode = EXIT_SKIPPED;
    });
}
