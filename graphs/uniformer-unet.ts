// Upstream's UniFormerUNet('uniformer_small') (docs/upstream.md#uniformer-s-u-net): a UniFormer-S
// encoder under upstream's parameter names, smp's U-Net decoder and head (smp-decoder.ts) over
// [empty 0-channel map at 1/2, stages 1-4 at 1/4 .. 1/32]. The stage list below sets the depth;
// nothing else counts blocks or stages.
//
// Initialisation as upstream builds it without pretrained weights: UniFormer's _init_weights
// (Linear weights trunc_normal(std 0.02) -- truncated at +-2, i.e. 100 std, so drawn here as a plain
// normal --, Linear biases 0, LayerNorm 1 / 0), PyTorch's defaults for its convs and BatchNorms, and
// smp's initialize() for decoder and head.
import type { Value } from '../src/onnx/builder.js';
import {
  add,
  conv,
  gelu,
  layerNorm,
  matmul,
  mul,
  reshape,
  softmax,
  split,
  transpose,
} from '../src/onnx/ops/index.js';
import {
  applyBatchNorm,
  applyConv,
  declareBatchNorm,
  declareConv,
  samePads,
  scaled,
  type BatchNormWeights,
  type ConvWeights,
  type ModelContext,
} from './layers.js';
import { declareUnetDecoder, unetDecoder } from './smp-decoder.js';

export const UNIFORMER_DEPTHS = { uniformer_small: [3, 4, 8, 3] } as const;
export type UniFormerName = keyof typeof UNIFORMER_DEPTHS;
/** Blocks per stage of the UniFormer sizes upstream's code defines, to name a checkpoint of another size. */
export const UPSTREAM_UNIFORMER_DEPTHS: Record<string, readonly number[]> = {
  ...UNIFORMER_DEPTHS,
  uniformer_small_plus: [3, 5, 9, 3],
  uniformer_base: [5, 8, 20, 7],
};

interface StageSpec {
  /** embedding width at full size */
  dim: number;
  /** convolutional blocks (CBlock) or self-attention blocks (SABlock) */
  block: 'conv' | 'attention';
  /** the patch embedding's kernel and stride */
  patch: number;
}

const STAGES: StageSpec[] = [
  { dim: 64, block: 'conv', patch: 4 },
  { dim: 128, block: 'conv', patch: 2 },
  { dim: 320, block: 'attention', patch: 2 },
  { dim: 512, block: 'attention', patch: 2 },
];
/** Upstream's head dimension; a stage has dim / 64 heads at full width. */
const HEAD_DIM = 64;
const MLP_RATIO = 4;
/** PatchEmbed's LayerNorm keeps PyTorch's default eps; the attention blocks' norms use 1e-6. */
const PATCH_NORM_EPS = 1e-5;
const BLOCK_NORM_EPS = 1e-6;
const CLASSES = 1000;

/**
 * The head count of every stage at a width: --width_mult keeps upstream's head counts (1, 2, 5, 8)
 * and scales the head dimension with the widths (64 * width_mult), so every head sees the same
 * share of its stage as upstream's. Widths that do not split into those heads are refused.
 */
export function uniformerHeads(widthMult: number): number[] {
  const dims = STAGES.map((s) => scaled(s.dim, widthMult));
  const heads = STAGES.map((s) => s.dim / HEAD_DIM);
  const headDim = scaled(HEAD_DIM, widthMult);
  if (dims.some((d, i) => d !== heads[i] * headDim))
    throw new Error(
      `uniformer_small at width_mult ${widthMult}: stage widths ${dims.join(', ')} do not split into ${heads.join(', ')} heads of one size; ` +
        `use a width_mult that makes 64 * width_mult a whole number (e.g. 0.0625, 0.125, 0.25, 0.5, 1)`,
    );
  return heads;
}

interface Linear {
  weight: Value;
  bias: Value;
}

/** nn.Linear stored in the graph as [in, out] (upstream [out, in]), so tokens [.., in] MatMul it directly. */
function declareLinear(ctx: ModelContext, name: string, cin: number, cout: number): Linear {
  const weight = ctx.param({
    name: `${name}.weight`,
    kind: 'param',
    shape: [cin, cout],
    upstreamShape: [cout, cin],
    permutation: [1, 0],
    init: { kind: 'normal', std: 0.02 },
  });
  return { weight, bias: declareVector(ctx, `${name}.bias`, cout, 0) };
}

function linear(x: Value, w: Linear): Value {
  return add(matmul(x, w.weight), w.bias);
}

function declareVector(ctx: ModelContext, name: string, n: number, value: number): Value {
  return ctx.param({
    name,
    kind: 'param',
    shape: [n],
    upstreamShape: [n],
    permutation: [0],
    init: { kind: 'const', value },
  });
}

interface Norm {
  weight: Value;
  bias: Value;
}

const declareLayerNorm = (ctx: ModelContext, name: string, c: number): Norm => ({
  weight: declareVector(ctx, `${name}.weight`, c, 1),
  bias: declareVector(ctx, `${name}.bias`, c, 0),
});

/** A depthwise k x k conv with bias (PyTorch's default init: fan_in = k * k). */
const declareDepthwise = (ctx: ModelContext, name: string, c: number, k: number): ConvWeights =>
  declareConv(ctx, name, { kind: 'conv', cin: 1, cout: c, kernel: [k, k], bias: true });

const declarePointwise = (ctx: ModelContext, name: string, cin: number, cout: number): ConvWeights =>
  declareConv(ctx, name, { kind: 'conv', cin, cout, kernel: [1, 1], bias: true });

function depthwise(x: Value, w: ConvWeights): Value {
  const k = Number(w.weight.shape[2]);
  return conv(x, w.weight, w.bias, { group: x.dim(1), pads: samePads(2, k) });
}

interface PatchEmbed {
  norm: Norm;
  proj: ConvWeights;
  patch: number;
}

interface ConvBlock {
  kind: 'conv';
  posEmbed: ConvWeights;
  norm1: BatchNormWeights;
  conv1: ConvWeights;
  conv2: ConvWeights;
  attn: ConvWeights;
  norm2: BatchNormWeights;
  fc1: ConvWeights;
  fc2: ConvWeights;
}

interface AttentionBlock {
  kind: 'attention';
  posEmbed: ConvWeights;
  norm1: Norm;
  qkv: Linear;
  proj: Linear;
  norm2: Norm;
  fc1: Linear;
  fc2: Linear;
  heads: number;
}

type Block = ConvBlock | AttentionBlock;

// Declarations follow upstream's module registration order, which is the state dict's.
function declarePatchEmbed(
  ctx: ModelContext,
  name: string,
  cin: number,
  c: number,
  patch: number,
): PatchEmbed {
  const norm = declareLayerNorm(ctx, `${name}.norm`, c);
  const proj = declareConv(ctx, `${name}.proj`, {
    kind: 'conv',
    cin,
    cout: c,
    kernel: [patch, patch],
    bias: true,
  });
  return { norm, proj, patch };
}

function declareConvBlock(ctx: ModelContext, name: string, c: number): ConvBlock {
  return {
    kind: 'conv',
    posEmbed: declareDepthwise(ctx, `${name}.pos_embed`, c, 3),
    norm1: declareBatchNorm(ctx, `${name}.norm1`, c),
    conv1: declarePointwise(ctx, `${name}.conv1`, c, c),
    conv2: declarePointwise(ctx, `${name}.conv2`, c, c),
    attn: declareDepthwise(ctx, `${name}.attn`, c, 5),
    norm2: declareBatchNorm(ctx, `${name}.norm2`, c),
    fc1: declarePointwise(ctx, `${name}.mlp.fc1`, c, MLP_RATIO * c),
    fc2: declarePointwise(ctx, `${name}.mlp.fc2`, MLP_RATIO * c, c),
  };
}

function declareAttentionBlock(ctx: ModelContext, name: string, c: number, heads: number): AttentionBlock {
  return {
    kind: 'attention',
    posEmbed: declareDepthwise(ctx, `${name}.pos_embed`, c, 3),
    norm1: declareLayerNorm(ctx, `${name}.norm1`, c),
    qkv: declareLinear(ctx, `${name}.attn.qkv`, c, 3 * c),
    proj: declareLinear(ctx, `${name}.attn.proj`, c, c),
    norm2: declareLayerNorm(ctx, `${name}.norm2`, c),
    fc1: declareLinear(ctx, `${name}.mlp.fc1`, c, MLP_RATIO * c),
    fc2: declareLinear(ctx, `${name}.mlp.fc2`, MLP_RATIO * c, c),
    heads,
  };
}

/** [N, C, H, W] -> [N, H*W, C] tokens and back. */
const toTokens = (x: Value) => transpose(reshape(x, [x.shape[0], x.dim(1), x.dim(2) * x.dim(3)]), [0, 2, 1]);
const fromTokens = (t: Value, like: Value) => reshape(transpose(t, [0, 2, 1]), like.shape);

/** Conv patches, then a LayerNorm over channels (channels moved last and back). */
function patchEmbed(x: Value, w: PatchEmbed): Value {
  const p = conv(x, w.proj.weight, w.proj.bias, { strides: [w.patch, w.patch] });
  const channelsLast = transpose(p, [0, 2, 3, 1]);
  return transpose(layerNorm(channelsLast, w.norm.weight, w.norm.bias, PATCH_NORM_EPS), [0, 3, 1, 2]);
}

function convBlock(ctx: ModelContext, x: Value, w: ConvBlock): Value {
  x = add(x, depthwise(x, w.posEmbed));
  const local = applyConv(ctx, applyBatchNorm(ctx, w.norm1, x), w.conv1);
  x = add(x, applyConv(ctx, depthwise(local, w.attn), w.conv2));
  const hidden = gelu(applyConv(ctx, applyBatchNorm(ctx, w.norm2, x), w.fc1));
  return add(x, applyConv(ctx, hidden, w.fc2));
}

/**
 * Multi-head self-attention on tokens [N, L, C]. qkv's output channels are (q|k|v, head, channel),
 * so [N, L, 3C] viewed as [N, L, 3 * heads, d] splits into q, k, v of [N, L, heads, d]; k is moved
 * to [N, heads, d, L] so q k^T is one batched MatMul. The scale d^-0.5 is applied to q (1/8 at full
 * width: a power of two, so bit-equal to scaling the scores as upstream does).
 */
function selfAttention(t: Value, w: AttentionBlock): Value {
  const [n, l, c] = [t.shape[0], t.dim(1), t.dim(2)];
  const d = c / w.heads;
  const qkv = reshape(linear(t, w.qkv), [n, l, 3 * w.heads, d]);
  const [q, k, v] = split(qkv, 2, [w.heads, w.heads, w.heads]);
  const scores = matmul(mul(transpose(q, [0, 2, 1, 3]), d ** -0.5), transpose(k, [0, 2, 3, 1]));
  const mixed = matmul(softmax(scores, -1), transpose(v, [0, 2, 1, 3])); // [N, heads, L, d]
  return linear(reshape(transpose(mixed, [0, 2, 1, 3]), [n, l, c]), w.proj);
}

function attentionBlock(x: Value, w: AttentionBlock): Value {
  x = add(x, depthwise(x, w.posEmbed));
  let t = toTokens(x);
  t = add(t, selfAttention(layerNorm(t, w.norm1.weight, w.norm1.bias, BLOCK_NORM_EPS), w));
  const hidden = gelu(linear(layerNorm(t, w.norm2.weight, w.norm2.bias, BLOCK_NORM_EPS), w.fc1));
  return fromTokens(add(t, linear(hidden, w.fc2)), x);
}

/** Logits [N, 1, S, S] of UniFormerUNet(encoder) for a normalised image [N, 3, S, S]. */
export function uniformerUnet(ctx: ModelContext, x: Value, encoder: UniFormerName, widthMult: number): Value {
  const b = ctx.b;
  const heads = uniformerHeads(widthMult);
  const dims = STAGES.map((s) => scaled(s.dim, widthMult));
  const depths = UNIFORMER_DEPTHS[encoder];
  const embeds = STAGES.map((s, i) =>
    declarePatchEmbed(ctx, `encoder.patch_embed${i + 1}`, i === 0 ? 3 : dims[i - 1], dims[i], s.patch),
  );
  const stages: Block[][] = STAGES.map((s, i) =>
    Array.from({ length: depths[i] }, (_, k): Block => {
      const name = `encoder.blocks${i + 1}.${k}`;
      return s.block === 'conv'
        ? declareConvBlock(ctx, name, dims[i])
        : declareAttentionBlock(ctx, name, dims[i], heads[i]);
    }),
  );
  const last = dims[dims.length - 1];
  const finalNorm = declareBatchNorm(ctx, 'encoder.norm', last);
  // The ImageNet classifier: in upstream's state dict, never run.
  ctx.keep({
    name: 'encoder.head.weight',
    kind: 'unused',
    shape: [CLASSES, last],
    upstreamShape: [CLASSES, last],
    permutation: [0, 1],
    init: { kind: 'normal', std: 0.02 },
  });
  ctx.keep({
    name: 'encoder.head.bias',
    kind: 'unused',
    shape: [CLASSES],
    upstreamShape: [CLASSES],
    permutation: [0],
    init: { kind: 'const', value: 0 },
  });
  // Features finest first: the empty 0-channel map at 1/2 (never joined), then every stage.
  const decoder = declareUnetDecoder(ctx, [0, ...dims], widthMult);

  const features: (Value | null)[] = [null];
  let h = x;
  stages.forEach((blocks, i) => {
    h = b.scope(`encoder.patch_embed${i + 1}`, () => patchEmbed(h, embeds[i]));
    h = blocks.reduce(
      (v, w, k) =>
        b.scope(`encoder.blocks${i + 1}.${k}`, () =>
          w.kind === 'conv' ? convBlock(ctx, v, w) : attentionBlock(v, w),
        ),
      h,
    );
    if (i === stages.length - 1) h = b.scope('encoder.norm', () => applyBatchNorm(ctx, finalNorm, h));
    features.push(h);
  });
  return unetDecoder(ctx, decoder, features);
}
