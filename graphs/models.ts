// The model registry: both families behind one interface, so every task graph (inference, SSL,
// weak supervision) is written once. Frames come in as [N, T, H, W, 3] and per-frame logits go out
// as [N, T, H, W] whichever family runs inside.
import type { GraphForms } from '../src/onnx/forms.js';
import { GraphBuilder, type Value } from '../src/onnx/builder.js';
import { reshape, slice } from '../src/onnx/ops/index.js';
import { ModelContext, inputSource, type ParamSpec } from './layers.js';
import {
  channelsFirst,
  gridSide,
  normalise,
  padFrames,
  tileSuperImage,
  untileSuperImage,
  type Normalisation,
} from './preprocess.js';
import { resnetUnet, type ResNetName } from './resnet-unet.js';
import { UNET3D_STRIDE, unet3d, type UNet3DName } from './unet3d.js';
import { uniformerHeads, uniformerUnet } from './uniformer-unet.js';

export const ENCODERS = [
  '3d_unet',
  '3d_unet_small',
  'si_resnet34_unet',
  'si_resnet18_unet',
  'uniformer_small',
] as const;
export type EncoderName = (typeof ENCODERS)[number];

export interface ModelConfig extends Normalisation {
  encoder: EncoderName;
  /** clip length T */
  frames: number;
  /** frame side H = W (112 for EchoNet) */
  size: number;
  widthMult: number;
  /** super-image tile side (frames are padded to it); default 128 like upstream's PadIfNeeded(128) */
  tile?: number;
  /** the graph forms of the backend the graphs are emitted for (default: the CPU's) */
  forms?: GraphForms;
}

export interface SegModel {
  config: ModelConfig;
  family: '3d' | 'superimage';
  /** raw float frames [N, T, H, W, 3] (0..255) -> the network's normalised input */
  prepare(raw: Value): Value;
  /** the network; declares its parameters through ctx */
  forward(ctx: ModelContext, input: Value): Value;
  /** network output -> per-frame logits [N, T, H, W] */
  toFrames(out: Value): Value;
}

/** Which family an encoder belongs to: 3D U-Nets over clips, or 2D U-Nets over super-images. */
export function encoderFamily(encoder: EncoderName): SegModel['family'] {
  return encoder === '3d_unet' || encoder === '3d_unet_small' ? '3d' : 'superimage';
}

function isEncoder(name: string): name is EncoderName {
  return (ENCODERS as readonly string[]).includes(name);
}

/** Super-image sides must be multiples of this (both 2D encoders reach 1/32). */
const SUPERIMAGE_STRIDE = 32;

/** The super-image tile side for a config (upstream pads 112 -> 128). */
function tileSide(cfg: ModelConfig): number {
  return cfg.tile ?? Math.max(128, Math.ceil(cfg.size / SUPERIMAGE_STRIDE) * SUPERIMAGE_STRIDE);
}

/** The 2D network of a super-image encoder. */
function superImageNetwork(encoder: EncoderName, widthMult: number): SegModel['forward'] {
  if (encoder === 'uniformer_small') {
    uniformerHeads(widthMult); // refuses widths whose stages do not split into upstream's heads
    return (ctx, x) => uniformerUnet(ctx, x, encoder, widthMult);
  }
  const resnet: ResNetName = encoder === 'si_resnet34_unet' ? 'resnet34' : 'resnet18';
  return (ctx, x) => resnetUnet(ctx, x, resnet, widthMult);
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/** Validates the configuration (sizes against the model's stride) and returns the model. */
export function createModel(cfg: ModelConfig): SegModel {
  check(isEncoder(cfg.encoder), `unknown encoder "${cfg.encoder}" (known: ${ENCODERS.join(', ')})`);
  check(
    Number.isInteger(cfg.frames) && cfg.frames > 0,
    `frames must be a positive integer (got ${cfg.frames})`,
  );
  check(Number.isInteger(cfg.size) && cfg.size > 0, `size must be a positive integer (got ${cfg.size})`);
  check(cfg.widthMult > 0 && cfg.widthMult <= 1, `width_mult must be in (0, 1] (got ${cfg.widthMult})`);
  check(
    cfg.mean.length === 3 && cfg.std.length === 3 && cfg.std.every((s) => s > 0),
    'mean and std need 3 values each, std > 0',
  );
  const norm = { mean: cfg.mean, std: cfg.std };
  if (encoderFamily(cfg.encoder) === '3d') {
    const s = UNET3D_STRIDE;
    check(
      cfg.frames % s === 0 && cfg.size % s === 0,
      `${cfg.encoder} needs frames, height and width divisible by ${s} (got T=${cfg.frames}, H=W=${cfg.size})`,
    );
    const name = cfg.encoder as UNet3DName;
    return {
      config: cfg,
      family: '3d',
      prepare: (raw) => channelsFirst(normalise(raw, norm)),
      forward: (ctx, x) => unet3d(ctx, x, name, cfg.widthMult),
      toFrames: (out) => reshape(out, [out.shape[0], cfg.frames, cfg.size, cfg.size]),
    };
  }
  const n = gridSide(cfg.frames);
  const tile = tileSide(cfg);
  check(tile >= cfg.size, `tile ${tile} is smaller than the frame size ${cfg.size}`);
  check(
    (n * tile) % SUPERIMAGE_STRIDE === 0,
    `${cfg.encoder} needs a super-image side divisible by ${SUPERIMAGE_STRIDE} (got ${n} x ${tile} = ${n * tile}); choose another --tile`,
  );
  const network = superImageNetwork(cfg.encoder, cfg.widthMult);
  return {
    config: { ...cfg, tile },
    family: 'superimage',
    // Pad with raw 0 before normalising, so pads hold -mean/std (docs/upstream.md#normalisation).
    prepare: (raw) => tileSuperImage(normalise(padFrames(raw, tile), norm), tile),
    forward: network,
    toFrames: (out) => {
      const frames = untileSuperImage(out, cfg.frames, tile);
      return tile === cfg.size ? frames : slice(frames, [0, 0], [cfg.size, cfg.size], [2, 3]);
    },
  };
}

/** The parameter list of a configuration, from a throwaway build (cheap: no weights are made). */
export function modelParamSpecs(model: SegModel): ParamSpec[] {
  const b = new GraphBuilder();
  const ctx = new ModelContext(b, inputSource, false);
  const raw = b.input('raw', 'float32', ['N', model.config.frames, model.config.size, model.config.size, 3]);
  model.forward(ctx, model.prepare(raw));
  return ctx.specs;
}
