// segmentation_models_pytorch 0.3.2 Unet with a torchvision ResNet encoder
// (docs/upstream.md#super-image-u-nets), under smp's parameter names. Initialisation follows what those
// libraries do when built without pretrained weights: torchvision's ResNet uses kaiming_normal(fan_out, relu)
// for convs, smp re-initialises the decoder (kaiming_uniform(fan_in, relu), zero bias) and the head
// (xavier_uniform, zero bias).
import type { Value } from '../src/onnx/builder.js';
import { add, maxPool, relu } from '../src/onnx/ops/index.js';
import { declareUnetDecoder, unetDecoder } from './smp-decoder.js';
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

export const RESNET_BLOCKS = { resnet18: [2, 2, 2, 2], resnet34: [3, 4, 6, 3] } as const;
export type ResNetName = keyof typeof RESNET_BLOCKS;
const STAGE_CHANNELS = [64, 128, 256, 512];

const kaimingNormalFanOut = (_fanIn: number, fanOut: number): InitSpec => ({
  kind: 'normal',
  std: Math.sqrt(2 / fanOut),
});

interface ConvBn {
  conv: ConvWeights;
  bn: BatchNormWeights;
}

function declareEncoderConv(
  ctx: ModelContext,
  name: string,
  cin: number,
  cout: number,
  k: number,
): ConvWeights {
  return declareConv(ctx, name, {
    kind: 'conv',
    cin,
    cout,
    kernel: [k, k],
    bias: false,
    weightInit: kaimingNormalFanOut,
  });
}

interface BasicBlock {
  conv1: ConvWeights;
  bn1: BatchNormWeights;
  conv2: ConvWeights;
  bn2: BatchNormWeights;
  downsample: ConvBn | null;
  stride: number;
}

function declareBasicBlock(
  ctx: ModelContext,
  name: string,
  cin: number,
  cout: number,
  stride: number,
): BasicBlock {
  return {
    conv1: declareEncoderConv(ctx, `${name}.conv1`, cin, cout, 3),
    bn1: declareBatchNorm(ctx, `${name}.bn1`, cout),
    conv2: declareEncoderConv(ctx, `${name}.conv2`, cout, cout, 3),
    bn2: declareBatchNorm(ctx, `${name}.bn2`, cout),
    downsample:
      stride !== 1 || cin !== cout
        ? {
            conv: declareEncoderConv(ctx, `${name}.downsample.0`, cin, cout, 1),
            bn: declareBatchNorm(ctx, `${name}.downsample.1`, cout),
          }
        : null,
    stride,
  };
}

function basicBlock(ctx: ModelContext, x: Value, w: BasicBlock): Value {
  const s = [w.stride, w.stride];
  let y = relu(applyBatchNorm(ctx, w.bn1, applyConv(ctx, x, w.conv1, { strides: s, pads: samePads(2, 3) })));
  y = applyBatchNorm(ctx, w.bn2, applyConv(ctx, y, w.conv2, { pads: samePads(2, 3) }));
  const shortcut = w.downsample
    ? applyBatchNorm(ctx, w.downsample.bn, applyConv(ctx, x, w.downsample.conv, { strides: s }))
    : x;
  return relu(add(y, shortcut));
}

/** Logits [N, 1, S, S] of an smp Unet(resnetXX) for a normalised image [N, 3, S, S]. */
export function resnetUnet(ctx: ModelContext, x: Value, encoder: ResNetName, widthMult: number): Value {
  const b = ctx.b;
  const stage = STAGE_CHANNELS.map((c) => scaled(c, widthMult));
  const stem = {
    conv: declareEncoderConv(ctx, 'encoder.conv1', 3, stage[0], 7),
    bn: declareBatchNorm(ctx, 'encoder.bn1', stage[0]),
  };
  const layers = RESNET_BLOCKS[encoder].map((n, i) =>
    Array.from({ length: n }, (_, k) =>
      declareBasicBlock(
        ctx,
        `encoder.layer${i + 1}.${k}`,
        k === 0 ? stage[Math.max(0, i - 1)] : stage[i],
        stage[i],
        k === 0 && i > 0 ? 2 : 1,
      ),
    ),
  );
  // Encoder features from fine to coarse: stem (1/2), layer1 (1/4) .. layer4 (1/32).
  const decoder = declareUnetDecoder(ctx, [stage[0], ...stage], widthMult);

  const features: Value[] = [];
  let h = b.scope('encoder.stem', () =>
    relu(
      applyBatchNorm(ctx, stem.bn, applyConv(ctx, x, stem.conv, { strides: [2, 2], pads: samePads(2, 7) })),
    ),
  );
  features.push(h);
  h = maxPool(h, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  layers.forEach((blocksOfLayer, i) => {
    h = b.scope(`encoder.layer${i + 1}`, () => blocksOfLayer.reduce((v, w) => basicBlock(ctx, v, w), h));
    features.push(h);
  });
  return unetDecoder(ctx, decoder, features);
}
