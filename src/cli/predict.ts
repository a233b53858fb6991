// `unilvseg predict`: test-set prediction PNGs for `unilvseg evaluate` (upstream seg_3d_test_get_predictions.py).
import { Command } from 'commander';
import { checkClipSettings, loadSegmentationModel } from '../infer/model.js';
import { runPredict } from '../infer/predict.js';
import type { ExecutionProvider } from '../onnx/runtime.js';
import { EXIT_SKIPPED } from '../util/failures.js';
import { epOption, parse, SKIP_HELP, STRICT_HELP, withModelSource } from './flags.js';
import { DEFAULT_SEED } from '../defaults.js';

interface PredictFlags {
  dataPath: string;
  saveDir: string;
  model?: string;
  checkpoint?: string;
  artifacts?: string;
  split: string;
  frames?: number;
  period?: number;
  batchSize: number;
  numWorkers: number;
  shuffleTemporalOrder?: boolean;
  seed: number;
  ep: ExecutionProvider;
  threads?: number;
  strict?: boolean;
}

export function register(program: Command): void {
  withModelSource(
    program
      .command('predict')
      .description(
        'Segment the traced ED and ES frame of every video of a split (upstream seg_3d_test_get_predictions.py): one centred ' +
          'clip per traced frame, sigmoid >= 0.5, one 0/255 PNG per traced frame, the folder `unilvseg evaluate --prediction_dir` reads.',
      )
      .requiredOption(
        '--data-path <dir>',
        'EchoNet-Dynamic folder (FileList.csv, VolumeTracings.csv, Videos/)',
      )
      .requiredOption('--save-dir <dir>', 'where the PNGs and predictions.jsonl are written'),
  )
    .option('--split <name>', 'split to predict (train, val, test, all)', 'test')
    .option(
      '--frames <T>',
      "clip length; default and only accepted value: the model's (a checkpoint without artifact set: default 32)",
      parse.int,
    )
    .option(
      '--period <p>',
      "frame step; default and only accepted value: the model's (a checkpoint without artifact set: default 1)",
      parse.int,
    )
    .option('--batch-size <n>', 'clips per forward pass', parse.int, 16)
    .option('--num-workers <n>', 'video-decoding worker threads (0 = main thread)', parse.int, 4)
    .option(
      '--shuffle-temporal-order',
      "ablation as upstream: permute each clip's frames (seeded) before the forward pass",
    )
    .option('--seed <n>', 'seed of --shuffle-temporal-order', parse.int, DEFAULT_SEED)
    .addOption(epOption())
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', parse.int)
    .option('--strict', STRICT_HELP)
    .addHelpText(
      'after',
      `
File names are upstream's: <stem>_<frame>_esv.png holds the ED (large) frame and <stem>_<frame>_edv.png the ES (small)
frame. The tags are swapped relative to their meaning exactly as upstream writes and reads them, so our predictions and
upstream's are interchangeable in either evaluator. ${SKIP_HELP}

Examples:
  unilvseg predict --data_path demo/data --model runs/weak --save_dir preds/weak
  unilvseg predict --data_path demo/data --checkpoint runs/weak/best.safetensors --save_dir preds/weak
  unilvseg predict --data_path /data/EchoNet-Dynamic --checkpoint epoch=59-step=14520.ckpt --save_dir preds/upstream
  unilvseg evaluate --data_dir demo/data --prediction_dir preds/weak --output_dir eval/weak`,
    )
    .action(async (o: PredictFlags) => {
      const model = await loadSegmentationModel({
        model: o.model,
        checkpoint: o.checkpoint,
        artifacts: o.artifacts,
        frames: o.frames,
        period: o.period,
        ep: o.ep,
        threads: o.threads,
      });
      try {
        checkClipSettings(model, o.frames, o.period);
        process.stderr.write(`predict: ${model.describe}\n`);
        const s = await runPredict({
          dataPath: o.dataPath,
          saveDir: o.saveDir,
          model,
          split: o.split,
          batchSize: o.batchSize,
          numWorkers: o.numWorkers,
          shuffleTemporalOrder: o.shuffleTemporalOrder ?? false,
          seed: o.seed,
          strict: o.strict,
        });
        console.log(
          `wrote ${s.written} masks of ${s.videos} videos (${s.split}) to ${s.saveDir} in ${s.seconds.toFixed(1)} s; log ${s.log}`,
        );
        if (s.skipped.length) {
          console.log(`skipped ${s.skipped.length} bad item(s), listed in ${s.failures}`);
          process.exitCode = EXIT_SKIPPED;
        }
      } finally {
        await model.release();
      }
    });
}
