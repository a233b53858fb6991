// `unilvseg ort-train`: the upstream seg_3d_masking_train.py / seg_3d_train.py on ONNX Runtime.
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runTraining } from '../train/loop.js';
import { defaultTrainOptions, type TrainOptions } from '../train/options.js';
import { PRETRAINED_TYPES, UPSTREAM_TRANSFER, type PretrainedType } from '../train/transfer.js';
import type { Phase } from '../defaults.js';
import { EXIT_SKIPPED } from '../util/failures.js';
import { epOption, parse, SKIP_HELP, STRICT_HELP } from './flags.js';
import { ENCODERS } from '../../graphs/models.js';

/** Upstream writes lightning_logs/version_N; we default to runs/<phase>/version_N likewise. */
function nextVersionDir(phase: string): string {
  for (let n = 0; ; n++) {
    const dir = join('runs', phase, `version_${n}`);
    if (!existsSync(dir)) return dir;
  }
}

/** `--milestones 45,60`: ascending whole epochs. */
function parseMilestones(v: string): number[] {
  const epochs = v.split(',').map((t) => parse.int(t.trim()));
  if (epochs.some((e, i) => e < 1 || (i > 0 && e <= epochs[i - 1])))
    throw new Error(`--milestones takes ascending epochs >= 1, got "${v}"`);
  return epochs;
}

export function register(program: Command): void {
  const d = defaultTrainOptions('weak');
  program
    .command('ort-train')
    .description(
      'train on ONNX Runtime: temporal-masking pre-training (--phase ssl) or weak supervision from ED/ES tracings (--phase weak)',
    )
    .addOption(new Option('--phase <phase>', 'ssl | weak').choices(['ssl', 'weak']).makeOptionMandatory())
    .requiredOption(
      '--data-path <dir>',
      'EchoNet-Dynamic-style folder (FileList.csv, VolumeTracings.csv, Videos/); ssl also: the same without VolumeTracings.csv, a folder of videos, or a text file of video paths',
    )
    .option(
      '--val-data <path>',
      "ssl: validation videos for a --data_path without splits (a folder, a list, or an EchoNet folder's VAL split); default: an eighth of the pool held out",
    )
    .option('--out <dir>', 'output folder (default runs/<phase>/version_N)')
    .option('--encoder <name>', ENCODERS.join(' | '), d.encoder)
    .option('--frames <T>', 'frames per clip', parse.int, d.frames)
    .option('--period <p>', 'frame step within a clip', parse.int, d.period)
    .option('--mask-ratio <r>', 'SSL: fraction of frames masked', parse.float, d.maskRatio)
    .option('--batch-size <n>', 'samples per optimizer step', parse.int, d.batchSize)
    .option('--epochs <n>', 'epochs (default: 100 for ssl, 70 for weak, as the upstream scripts)', parse.int)
    .option(
      '--val-check-interval <f>',
      'validate every this fraction of an epoch (or every N batches if > 1)',
      parse.float,
      d.valCheckInterval,
    )
    .option(
      '--check-val-every-n-epoch <n>',
      'validate only in every n-th epoch (Lightning Trainer option; short epochs of few labelled videos)',
      parse.int,
      d.checkValEveryNEpoch,
    )
    .option('--num-workers <n>', 'data worker threads (0 = main thread)', parse.int, d.numWorkers)
    .option('--seed <n>', 'seed for initialisation, sampling, augmentation, masking', parse.int, d.seed)
    .option(
      '--checkpoint <file>',
      'weak: initial weights from an SSL (or any) checkpoint; ssl: resume from it. Our .safetensors, a Lightning .ckpt or a torch.save state dict',
    )
    .addOption(
      new Option(
        '--pretrained-type <t>',
        'weak: which weights --checkpoint provides: pl_full = every weight (upstream default), encoder = the encoder only',
      )
        .choices([...PRETRAINED_TYPES])
        .default(UPSTREAM_TRANSFER.pretrainedType),
    )
    .option(
      '--reinit-head',
      'weak: start the output block (decoder1 / segmentation head) fresh, not from --checkpoint',
    )
    .option(
      '--transfer-lr-scale <f>',
      'weak: learning-rate multiplier for the weights taken from --checkpoint',
      parse.float,
      UPSTREAM_TRANSFER.transferLrScale,
    )
    .option(
      '--head-warmup-steps <n>',
      'weak: first train only the weights not taken from --checkpoint, for n steps',
      parse.int,
      UPSTREAM_TRANSFER.headWarmupSteps,
    )
    .option('--pct-train <f>', 'train on this fraction of the training videos', parse.float)
    .addOption(epOption())
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', parse.int)
    .option(
      '--micro-batch <m>',
      'split each batch into micro-batches of m samples, gradients summed (saves memory)',
      parse.int,
      0,
    )
    .option('--width-mult <w>', 'channel width multiplier (e.g. 0.25 for CPU)', parse.float, d.widthMult)
    .option('--size <px>', 'frame side', parse.int, d.size)
    .option('--mean <v...>', 'normalisation mean (3 values)', parse.floats)
    .option('--std <v...>', 'normalisation std (3 values)', parse.floats)
    .option('--artifacts <dir>', 'use an artifact set built by build-graph instead of building one')
    .option('--lr <f>', 'base learning rate (default 3e-4)', parse.float)
    .option(
      '--milestones <epochs>',
      'weak: epochs at which the learning rate drops x0.1, comma-separated (default 45,60 as upstream)',
      parseMilestones,
    )
    .option('--max-steps <n>', 'stop after n optimizer steps in total', parse.int)
    .option('--save-every <n>', 'also save last.safetensors every n steps', parse.int, 0)
    .option('--limit-val-batches <n>', 'validate on at most n batches', parse.int, 0)
    .option('--no-test', 'weak: skip scoring the test split with the best checkpoint')
    .option('--resume', 'continue the run in --out from its last.safetensors', false)
    .option('--strict', STRICT_HELP)
    .addHelpText(
      'after',
      `
${SKIP_HELP} (Listed in <out>/failures.csv and log.jsonl.)

Examples (upstream commands work with "unilvseg ort-train --phase ..." in place of "python seg_3d_*.py"):
  unilvseg ort-train --phase ssl --data_path demo/data --encoder 3d_unet_small --width_mult 0.25 --frames 16 --batch_size 4 --epochs 2 --out runs/ssl
  unilvseg ort-train --phase ssl --data_path pool/Videos --val_data demo/data --encoder 3d_unet_small --width_mult 0.25 --frames 16 --max_steps 2000 --out runs/ssl-pool
  unilvseg ort-train --phase weak --data_path demo/data --encoder 3d_unet_small --width_mult 0.25 --frames 16 --checkpoint runs/ssl/best.safetensors --out runs/weak
  unilvseg ort-train --phase weak --data_path demo/data --out runs/weak --resume`,
    )
    .action(async (a: Record<string, unknown>) => {
      const phase = a.phase as Phase;
      const base = defaultTrainOptions(phase);
      const out = (a.out as string | undefined) ?? nextVersionDir(phase);
      if (a.resume && !a.out) throw new Error('--resume needs --out (the folder of the run to continue)');
      const o: TrainOptions = {
        ...base,
        phase,
        dataPath: a.dataPath as string,
        out,
        encoder: a.encoder as string,
        frames: a.frames as number,
        period: a.period as number,
        maskRatio: a.maskRatio as number,
        batchSize: a.batchSize as number,
        epochs: (a.epochs as number | undefined) ?? base.epochs,
        valCheckInterval: a.valCheckInterval as number,
        checkValEveryNEpoch: a.checkValEveryNEpoch as number,
        numWorkers: a.numWorkers as number,
        seed: a.seed as number,
        checkpoint: a.checkpoint as string | undefined,
        transfer: {
          pretrainedType: a.pretrainedType as PretrainedType,
          reinitHead: Boolean(a.reinitHead),
          transferLrScale: a.transferLrScale as number,
          headWarmupSteps: a.headWarmupSteps as number,
        },
        pctTrain: a.pctTrain as number | undefined,
        valData: a.valData as string | undefined,
        ep: a.ep as TrainOptions['ep'],
        threads: a.threads as number | undefined,
        microBatch: a.microBatch as number,
        widthMult: a.widthMult as number,
        size: a.size as number,
        mean: (a.mean as number[] | undefined) ?? base.mean,
        std: (a.std as number[] | undefined) ?? base.std,
        artifacts: a.artifacts as string | undefined,
        lr: a.lr as number | undefined,
        milestones: a.milestones as number[] | undefined,
        maxSteps: a.maxSteps as number | undefined,
        saveEvery: a.saveEvery as number,
        limitValBatches: a.limitValBatches as number,
        test: a.test as boolean,
        resume: a.resume as boolean,
        strict: a.strict as boolean | undefined,
      };
      for (const [k, v] of [
        ['mean', o.mean],
        ['std', o.std],
      ] as const)
        if (v.length !== 3) throw new Error(`--${k} takes 3 values, got ${v.length}`);
      process.stderr.write(`ort-train: ${phase} run in ${out}\n`);
      const s = await runTraining(o);
      console.log(JSON.stringify(s, null, 2));
      if (s.skipped > 0) process.exitCode = EXIT_SKIPPED;
    });
}
