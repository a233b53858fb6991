// `unilvseg segment-batch`: thousands of videos on a cluster, sharded, resumable, mergeable.
import { Command } from 'commander';
import { parsePixelSpacing } from '../data/open-video.js';
import { runSegmentBatch } from '../infer/batch/segment-batch.js';
import { SHARDS_ENV } from '../infer/batch/shard.js';
import type { ExecutionProvider } from '../onnx/runtime.js';
import { EXIT_SKIPPED } from '../util/failures.js';
import { epOption, parse, SKIP_HELP, STRICT_HELP, withModelSource } from './flags.js';

interface SegmentBatchFlags {
  input: string;
  output: string;
  model?: string;
  checkpoint?: string;
  artifacts?: string;
  split?: string;
  shard?: string;
  shards?: number;
  workers: number;
  threads?: number;
  overlay?: boolean;
  overlap?: boolean;
  batchSize: number;
  crop: boolean;
  pixelSpacingMm?: { x: number; y: number };
  ep: ExecutionProvider;
  strict?: boolean;
}

export function register(program: Command): void {
  withModelSource(
    program
      .command('segment-batch')
      .description(
        "Segment every video of a folder, a list or a FileList.csv with segment-video's outputs per video, as one shard " +
          'of n (Slurm job array, Kubernetes Indexed Job, or by hand); complete videos are skipped, so a re-run does only what is missing.',
      )
      .requiredOption(
        '--input <path>',
        'a folder (every video and DICOM file in it and its subfolders), a text file of video paths (one a line), or an EchoNet FileList.csv (videos in Videos/ next to it)',
      )
      .requiredOption('--output <dir>', 'output folder shared by all shards (videos/<key>/, shards/)'),
  )
    .option('--split <name>', 'FileList.csv input: only this split (train, val, test, all; default all)')
    .option(
      '--shard <i/n>',
      'this process does videos k with k mod n = i of the sorted list (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, else all)',
    )
    .option(
      '--shards <n>',
      `the number of shards, fixed for the whole run (or set ${SHARDS_ENV}): a Kubernetes pod is shard JOB_COMPLETION_INDEX of n, a Slurm task shard SLURM_ARRAY_TASK_ID of n, so resubmitting one task (sbatch --array=3) redoes exactly its shard`,
      parse.int,
    )
    .option(
      '--workers <k>',
      'ONNX Runtime sessions in parallel (more than one: each in its own worker process)',
      parse.int,
      1,
    )
    .option(
      '--threads <t>',
      'intra-op threads per session (default: the cores divided among the workers)',
      parse.int,
    )
    .option('--overlay', 'also write overlay.mp4 per video (as segment-video does always)')
    .option('--overlap', 'windows at half stride, probabilities averaged (as segment-video --overlap)')
    .option('--batch-size <n>', 'windows per forward pass', parse.int, 4)
    .option(
      '--no-crop',
      'as segment-video --no-crop: whole frames resized instead of the cropped ultrasound sector',
    )
    .option(
      '--pixel-spacing-mm <x[,y]>',
      'as segment-video: mm per pixel for every video (DICOM files state their own): EDV/ESV in mL',
      parsePixelSpacing,
    )
    .addOption(epOption())
    .option('--strict', STRICT_HELP)
    .addHelpText(
      'after',
      `
Per video, in <output>/videos/<key>/ (key: the path relative to the input folder without extension): segment-video's
mask.avi, frames.csv, area.svg, summary.json (written last: a video is complete when it is there), overlay.mp4 with
--overlay; failure.json instead when the video could not be read. Per shard, in <output>/shards/: shard-<i>-of-<n>.json
(input, model, settings, its videos, counts and videos per core-hour), .jsonl (log), .failures.csv.
${SKIP_HELP}
Then \`unilvseg merge-batch --output <dir>\` writes results.csv and failures.csv and says what is still missing.

Examples:
  unilvseg segment-batch --input /data/echoes --output out/echoes --model runs/weak --workers 2
  unilvseg segment-batch --input /data/EchoNet/FileList.csv --split test --output out/test --model runs/weak --shard 3/10
  sbatch ~/unilvseg-onnx/deploy/slurm/segment-batch.sbatch --input /data/echoes --output out/echoes --model runs/weak
                                        # Slurm array 0-9: task k is shard k of 10 (see deploy/README.md)
  unilvseg merge-batch --output out/echoes`,
    )
    .action(async (o: SegmentBatchFlags) => {
      if (!(o.workers >= 1)) throw new Error(`--workers takes a positive integer, got ${o.workers}`);
      if (o.threads !== undefined && !(o.threads >= 1))
        throw new Error(`--threads takes a positive integer, got ${o.threads}`);
      const r = await runSegmentBatch({
        input: o.input,
        output: o.output,
        split: o.split,
        model: { model: o.model, checkpoint: o.checkpoint, artifacts: o.artifacts },
        ep: o.ep,
        shard: o.shard,
        shards: o.shards,
        workers: o.workers,
        threads: o.threads,
        overlay: o.overlay,
        overlap: o.overlap,
        batchSize: o.batchSize,
        crop: o.crop,
        pixelSpacingMm: o.pixelSpacingMm,
        strict: o.strict,
      });
      const m = r.manifest.result!;
      const rate =
        m.videosPerCoreHour === null ? '' : `, ${m.videosPerCoreHour.toFixed(1)} videos per core-hour`;
      console.log(
        `shard ${r.manifest.shard.index}/${r.manifest.shard.count}: ${m.done} segmented, ${m.alreadyDone} already done, ${m.failed} failed in ${m.wallSeconds.toFixed(1)} s${rate}`,
      );
      console.log(`wrote ${r.files.manifest}, ${r.files.log}, ${r.files.failures}`);
      if (m.failed > 0) process.exitCode = EXIT_SKIPPED;
    });
}
