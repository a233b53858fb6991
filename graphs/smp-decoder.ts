// segmentation_models_pytorch 0.3.2's U-Net decoder and segmentation head, shared by the super-image
// models (docs/upstream.md#super-image-u-nets): five blocks, each nearest x2, concatenation with the
// encoder feature of that scale (when it has channels), two conv3x3-BatchNorm-ReLU; then a 3x3 conv
// to one channel. smp's initialize() re-initialises the decoder's convs with
// kaiming_uniform(fan_in, relu) (BatchNorm 1 / 0) and the head with xavier_uniform and a zero bias.
import type { Value } from '../src/onnx/builder.js';
import { concat, relu, resizeNearest } from '../src/onnx/ops/index.js';
import {
  applyBatchNorm,
  applyConv,
  declareBatchNorm,
  declareConv,
  samePads,
  scaled,
  type BatchNormWeights,
  type ConvWeights,
  type InitSpec,
  type ModelContext,
} from './layers.js';

export const DECODER_CHANNELS = [256, 128, 64, 32, 16];

const kaimingUniformFanIn = (fanIn: number): InitSpec => ({ kind: 'uniform', bound: Math.sqrt(6 / fanIn) });
const xavierUniform = (fanIn: number, fanOut: number): InitSpec => ({
  kind: 'uniform',
  bound: Math.sqrt(6 / (fanIn + fanOut)),
});
const zero = (): InitSpec => ({ kind: 'const', value: 0 });

interface ConvBn {
  conv: ConvWeights;
  bn: BatchNormWeights;
}

/** smp Conv2dReLU(use_batchnorm=True): Conv3x3 without bias (`.0`), BatchNorm (`.1`), ReLU. */
function declareConvBnRelu(ctx: ModelContext, name: string, cin: number, cout: number): ConvBn {
  return {
    conv: declareConv(ctx, `${name}.0`, {
      kind: 'conv',
      cin,
      cout,
      kernel: [3, 3],
      bias: false,
      weightInit: kaimingUniformFanIn,
    }),
    bn: declareBatchNorm(ctx, `${name}.1`, cout),
  };
}

function convBnRelu(ctx: ModelContext, x: Value, w: ConvBn): Value {
  return relu(applyBatchNorm(ctx, w.bn, applyConv(ctx, x, w.conv, { pads: samePads(2, 3) })));
}

export interface UnetDecoder {
  blocks: { conv1: ConvBn; conv2: ConvBn }[];
  head: ConvWeights;
}

/**
 * Declares `decoder.blocks.*` and `segmentation_head.0` for encoder features of `featureChannels`
 * channels, finest first (smp's encoder out_channels without the input: one entry per block, the
 * last the deepest; 0 for a scale with an empty feature). Block i joins the decoder's running
 * output with the feature one scale finer than its input; the finest block has none.
 */
export function declareUnetDecoder(
  ctx: ModelContext,
  featureChannels: number[],
  widthMult: number,
): UnetDecoder {
  const dec = DECODER_CHANNELS.map((c) => scaled(c, widthMult));
  if (featureChannels.length !== dec.length)
    throw new Error(`the U-Net decoder needs ${dec.length} encoder features, got ${featureChannels.length}`);
  const coarseFirst = [...featureChannels].reverse();
  const inChannels = [coarseFirst[0], ...dec.slice(0, -1)];
  const skipChannels = [...coarseFirst.slice(1), 0];
  const blocks = dec.map((cout, i) => ({
    conv1: declareConvBnRelu(ctx, `decoder.blocks.${i}.conv1`, inChannels[i] + skipChannels[i], cout),
    conv2: declareConvBnRelu(ctx, `decoder.blocks.${i}.conv2`, cout, cout),
  }));
  const head = declareConv(ctx, 'segmentation_head.0', {
    kind: 'conv',
    cin: dec[dec.length - 1],
    cout: 1,
    kernel: [3, 3],
    bias: true,
    weightInit: xavierUniform,
    biasInit: zero,
  });
  return { blocks, head };
}

/**
 * Logits [N, 1, S, S] from the encoder features (finest first, the deepest last, as declared;
 * null or 0-channel ones are not joined: concatenating an empty tensor changes nothing).
 */
export function unetDecoder(ctx: ModelContext, w: UnetDecoder, features: (Value | null)[]): Value {
  const b = ctx.b;
  const coarseFirst = [...features].reverse();
  let h = coarseFirst[0]!;
  w.blocks.forEach((block, i) => {
    h = b.scope(`decoder.blocks.${i}`, () => {
      const up = resizeNearest(h, [1, 1, 2, 2]);
      const skip = coarseFirst[i + 1];
      const joined = skip && skip.dim(1) > 0 ? concat([up, skip], 1) : up; // smp: cat([x, skip])
      return convBnRelu(ctx, convBnRelu(ctx, joined, block.conv1), block.conv2);
    });
  });
  return b.scope('segmentation_head', () => applyConv(ctx, h, w.head, { pads: samePads(2, 3) }));
}
