import { Option, type Command } from 'commander';
import { BACKENDS, type Backend } from '../onnx/forms.js';
import { buildArtifactSet } from '../artifacts/build.js';
import { ENCODERS } from '../../graphs/models.js';
import { parse } from './flags.js';
import { DEFAULT_MASK_RATIO, DEFAULT_SEED, FRAME_SIZE } from '../defaults.js';

interface BuildGraphFlags {
  encoder: string;
  frames: number;
  period: number;
  out: string;
  maskRatio: number;
  mean?: number[];
  std?: number[];
  seed: number;
  widthMult: number;
  size: number;
  tile?: number;
  backend: Backend;
}

/** `unilvseg build-graph`: writes a model's artifact set (graphs, initial checkpoint, manifest). */
export function register(program: Command): void {
  program
    .command('build-graph')
    .description(
      'emit the ONNX graphs (inference, SSL and weak-supervision train/eval steps, optimizers), the initial checkpoint and manifest.json of a model',
    )
    .requiredOption('--encoder <name>', `model: ${ENCODERS.join(', ')}`)
    .option('--frames <T>', 'clip length (3D: multiple of 16; SI: a perfect square)', parse.int, 32)
    .option('--period <p>', 'frame sampling period (recorded for the data pipeline)', parse.int, 1)
    .requiredOption('--out <dir>', 'output folder of the artifact set')
    .option(
      '--mask-ratio <r>',
      'SSL masking ratio in (0, 1) (recorded for the training loop)',
      parse.float,
      DEFAULT_MASK_RATIO,
    )
    .option(
      '--mean <m...>',
      'per-channel normalisation mean, 3 values on the [0, 1] scale (default: EchoNet)',
      parse.floats,
    )
    .option('--std <s...>', 'per-channel normalisation std, 3 values (default: EchoNet)', parse.floats)
    .option('--seed <s>', 'initialisation seed', parse.int, DEFAULT_SEED)
    .option(
      '--width-mult <w>',
      'multiply every channel count by w (0 < w <= 1; small models for tests)',
      parse.float,
      1,
    )
    .option('--size <px>', 'frame side H = W', parse.int, FRAME_SIZE)
    .option('--tile <px>', 'super-image tile side (SI models; default 128)', parse.int)
    .addOption(
      new Option('--backend <b>', 'emit the graph forms of this execution provider (webgpu: runs on WebGPU)')
        .choices(BACKENDS)
        .default('cpu'),
    )
    .action(async (o: BuildGraphFlags) => {
      const started = Date.now();
      const set = await buildArtifactSet({
        encoder: o.encoder,
        frames: o.frames,
        period: o.period,
        out: o.out,
        maskRatio: o.maskRatio,
        mean: o.mean,
        std: o.std,
        seed: o.seed,
        widthMult: o.widthMult,
        size: o.size,
        tile: o.tile,
        backend: o.backend,
      });
      const m = set.manifest.model;
      console.log(
        `build-graph: ${m.encoder} (${m.paramCount.toLocaleString('en-US')} parameters, T=${m.frames}, ${m.size}x${m.size}) -> ${set.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    });
}
