import type { Command } from 'commander';
import { ACCEPTED_CHECKPOINTS } from '../artifacts/checkpoint-file.js';
import { importCheckpoint, RELEASED_CLIP } from '../artifacts/import.js';
import { DEFAULT_MASK_RATIO, FRAME_SIZE } from '../defaults.js';
import { ENCODERS } from '../../graphs/models.js';
import { parse } from './flags.js';

interface ImportFlags {
  checkpoint: string;
  encoder?: string;
  out: string;
  frames?: number;
  period: number;
  widthMult?: number;
  size: number;
  maskRatio: number;
  mean?: number[];
  std?: number[];
}

/** `unilvseg import-checkpoint`: the authors' (or any matching) weights as an artifact set. */
export function register(program: Command): void {
  program
    .command('import-checkpoint')
    .description(
      'write the artifact set of a model (graphs, checkpoint.safetensors, manifest) holding the weights of a PyTorch ' +
        'Lightning .ckpt, a torch.save() state dict or a safetensors file; model.onnx embeds them',
    )
    .requiredOption('--checkpoint <file>', `the weights: ${ACCEPTED_CHECKPOINTS}`)
    .option('--encoder <name>', `model: ${ENCODERS.join(', ')} (default: identified from the weights)`)
    .requiredOption(
      '--out <dir>',
      'output folder of the artifact set (new, empty, or an artifact set to replace)',
    )
    .option(
      '--frames <T>',
      `clip length of the graphs (3D: multiple of 16, default ${RELEASED_CLIP.frames}; super-image: a square, default ${RELEASED_CLIP.superImageFrames})`,
      parse.int,
    )
    .option(
      '--period <p>',
      'frame sampling period the weights were trained with',
      parse.int,
      RELEASED_CLIP.period,
    )
    .option('--width-mult <w>', 'channel multiplier (default: identified from the weights)', parse.float)
    .option('--size <px>', 'frame side H = W', parse.int, FRAME_SIZE)
    .option(
      '--mask-ratio <r>',
      'SSL masking ratio recorded for further training',
      parse.float,
      DEFAULT_MASK_RATIO,
    )
    .option('--mean <m...>', 'per-channel normalisation mean (default: EchoNet)', parse.floats)
    .option('--std <s...>', 'per-channel normalisation std (default: EchoNet)', parse.floats)
    .addHelpText(
      'after',
      `
The checkpoint's names and shapes are checked against the model before anything is written: every missing, unexpected
or differently shaped tensor is listed in one error, and weights of another architecture are named as such. A torch
file's pickle is read without running anything: only tensor rebuilding is interpreted, other objects (hyper-parameter
classes, callbacks) are kept as inert placeholders and listed. Lightning optimizer state comes along in
checkpoint.safetensors (used by ort-train --phase ssl --checkpoint to resume).

Examples:
  unilvseg import-checkpoint --checkpoint epoch=59-step=14520.ckpt --encoder 3d_unet --frames 32 --period 1 --out artifacts/upstream
  unilvseg predict --data_path /data/EchoNet-Dynamic --model artifacts/upstream --save_dir preds/upstream`,
    )
    .action(async (o: ImportFlags) => {
      const started = Date.now();
      const r = await importCheckpoint({
        checkpoint: o.checkpoint,
        encoder: o.encoder,
        out: o.out,
        frames: o.frames,
        period: o.period,
        widthMult: o.widthMult,
        size: o.size,
        maskRatio: o.maskRatio,
        mean: o.mean,
        std: o.std,
      });
      const m = r.set.manifest.model;
      const a = r.architecture;
      console.log(
        `import-checkpoint: ${r.format} checkpoint ${o.checkpoint} (epoch ${r.epoch}, step ${r.step}) as ${a.encoder} ` +
          `(width ${a.widthMult}${a.identified ? ', identified from the weights' : ''}, ${m.paramCount.toLocaleString('en-US')} parameters, ` +
          `T=${m.frames}, p=${m.period}, ${m.size}x${m.size}) -> ${r.set.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      for (const note of r.notes) console.log(`  note: ${note}`);
      if (r.ignoredGlobals.length)
        console.log(`  kept as inert placeholders, never run: ${r.ignoredGlobals.join(', ')}`);
    });
}
