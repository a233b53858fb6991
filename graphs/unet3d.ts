// UNet3D and UNet3DSmall (docs/upstream.md#unet3d): MONAI 1.1.0 ResidualUnits (conv -> InstanceNorm ->
// PReLU, twice, plus a 1x1x1 residual conv where the channel count changes), max-pool down-sampling
// on every axis, up-convs = ConvTranspose3d(k3, s2, p1, op1) -> InstanceNorm -> PReLU computed in
// the sub-pixel form. Layout [N, C, T, H, W]; upstream's is [N, C, H, W, T] (kernels are permuted
// when checkpoints are read or written, see layers.ts).
import type { Value } from '../src/onnx/builder.js';
import { add, concat, instanceNorm, maxPool, prelu, upConvStride2 } from '../src/onnx/ops/index.js';
import {
  accurateInstanceNorm,
  applyConv,
  declareConv,
  samePads,
  scaled,
  type ConvWeights,
  type ModelContext,
} from './layers.js';

/** Residual units per encoder block: UNet3D 2,3,4,6,3; UNet3DSmall 2 everywhere. */
export const UNET3D_UNITS = { '3d_unet': [2, 3, 4, 6, 3], '3d_unet_small': [2, 2, 2, 2, 2] } as const;
export type UNet3DName = keyof typeof UNET3D_UNITS;
const CHANNELS = [16, 32, 64, 128, 256];
/** T, H and W must be multiples of this (four 2x poolings). */
export const UNET3D_STRIDE = 16;

interface ConvUnit {
  conv: ConvWeights;
  /** PReLU slope [1]; null for the bare conv of `last_conv_only` */
  slope: Value | null;
}
interface ResidualUnit {
  unit0: ConvUnit;
  unit1: ConvUnit;
  residual: ConvWeights | null;
}

function declareSlope(ctx: ModelContext, name: string): Value {
  return ctx.param({
    name: `${name}.adn.A.weight`,
    kind: 'param',
    shape: [1],
    upstreamShape: [1],
    permutation: [0],
    init: { kind: 'const', value: 0.25 },
  });
}

function declareConvUnit(
  ctx: ModelContext,
  name: string,
  cin: number,
  cout: number,
  convOnly: boolean,
): ConvUnit {
  const conv = declareConv(ctx, `${name}.conv`, { kind: 'conv', cin, cout, kernel: [3, 3, 3], bias: true });
  return { conv, slope: convOnly ? null : declareSlope(ctx, name) };
}

function declareResidualUnit(
  ctx: ModelContext,
  name: string,
  cin: number,
  cout: number,
  lastConvOnly = false,
): ResidualUnit {
  return {
    unit0: declareConvUnit(ctx, `${name}.conv.unit0`, cin, cout, false),
    unit1: declareConvUnit(ctx, `${name}.conv.unit1`, cout, cout, lastConvOnly),
    residual:
      cin === cout
        ? null
        : declareConv(ctx, `${name}.residual`, { kind: 'conv', cin, cout, kernel: [1, 1, 1], bias: true }),
  };
}

/** InstanceNorm3d(affine=False): unit scale and zero shift. */
function instanceNormPlain(x: Value): Value {
  const c = x.dim(1);
  const b = x.b;
  return instanceNorm(
    x,
    b.constant(new Float32Array(c).fill(1), 'float32', [c], 'ones'),
    b.constant(new Float32Array(c), 'float32', [c], 'zeros'),
  );
}

/**
 * Training graphs normalise with accurate statistics, which their gradients need (see
 * accurateInstanceNorm); inference keeps ORT's single fused InstanceNormalization, whose float32
 * drift does not matter to a forward pass.
 */
function norm(ctx: ModelContext, x: Value): Value {
  return ctx.training ? accurateInstanceNorm(x) : instanceNormPlain(x);
}

function convUnit(ctx: ModelContext, x: Value, u: ConvUnit): Value {
  const y = applyConv(ctx, x, u.conv, { pads: samePads(3, 3) });
  return u.slope ? prelu(norm(ctx, y), u.slope) : y;
}

function residualUnit(ctx: ModelContext, x: Value, u: ResidualUnit): Value {
  const y = convUnit(ctx, convUnit(ctx, x, u.unit0), u.unit1);
  return add(y, u.residual ? applyConv(ctx, x, u.residual) : x);
}

interface UpConv {
  conv: ConvWeights;
  slope: Value;
}

function upConv(ctx: ModelContext, x: Value, u: UpConv): Value {
  return prelu(norm(ctx, upConvStride2(x, u.conv.weight, u.conv.bias)), u.slope);
}

/**
 * Declares the parameters (in the upstream module registration order: encoder1-5, decoder4-1,
 * upconv5-2) and computes logits [N, 1, T, H, W] from a normalised clip [N, 3, T, H, W].
 */
export function unet3d(ctx: ModelContext, x: Value, name: UNet3DName, widthMult: number): Value {
  const ch = CHANNELS.map((c) => scaled(c, widthMult));
  const b = ctx.b;
  const encoders = UNET3D_UNITS[name].map((units, i) =>
    Array.from({ length: units }, (_, k) =>
      declareResidualUnit(ctx, `encoder${i + 1}.${k}`, k === 0 ? (i === 0 ? 3 : ch[i - 1]) : ch[i], ch[i]),
    ),
  );
  // decoderL joins the up-sampled level L+1 (ch[L]... after the up-conv) with the skip of level L.
  const decoders = [4, 3, 2].map((l) => declareResidualUnit(ctx, `decoder${l}`, 2 * ch[l - 1], ch[l - 1]));
  decoders.push(declareResidualUnit(ctx, 'decoder1', 2 * ch[0], 1, true));
  const upconvs = [5, 4, 3, 2].map((l) => ({
    conv: declareConv(ctx, `upconv${l}.conv`, {
      kind: 'transposed',
      cin: ch[l - 1],
      cout: ch[l - 2],
      kernel: [3, 3, 3],
      bias: true,
    }),
    slope: declareSlope(ctx, `upconv${l}`),
  }));

  const pool = (v: Value) => maxPool(v, { kernel: [2, 2, 2] });
  const runBlock = (v: Value, units: ResidualUnit[], scope: string) =>
    b.scope(scope, () => units.reduce((h, u) => residualUnit(ctx, h, u), v));
  const skips: Value[] = [];
  let h = x;
  encoders.forEach((units, i) => {
    if (i > 0) h = pool(h);
    h = runBlock(h, units, `encoder${i + 1}`);
    skips.push(h);
  });
  skips.pop(); // the bottleneck output is not a skip
  for (let k = 0; k < 4; k++) {
    const level = 5 - k;
    const up = b.scope(`upconv${level}`, () => upConv(ctx, h, upconvs[k]));
    // Upstream concatenates [up-sampled, skip].
    h = b.scope(`decoder${level - 1}`, () =>
      residualUnit(ctx, concat([up, skips[level - 2]], 1), decoders[k]),
    );
  }
  return h;
}
