import { expect } from 'chai';
import {
  ModelContext,
  applyBatchNorm,
  declareBatchNorm,
  initialValues,
  inputSource,
  parameterCount,
} from '../../graphs/layers.js';
import { createModel, modelParamSpecs } from '../../graphs/models.js';
import {
  ECHONET_NORMALISATION,
  normalise,
  padFrames,
  rawFloat,
  tileSuperImage,
  untileSuperImage,
} from '../../graphs/preprocess.js';
import { GraphBuilder, type Value } from '../../src/onnx/builder.js';
import { slice } from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { checkSuperImageGradients } from '../helpers/model-gradcheck.js';

const norm = ECHONET_NORMALISATION;
const si = (
  encoder: 'si_resnet34_unet' | 'si_resnet18_unet',
  frames = 16,
  size = 112,
  widthMult = 1,
  tile?: number,
) => createModel({ encoder, frames, size, widthMult, tile, ...norm });

describe('super-image U-Nets (smp 0.3.2 Unet, torchvision ResNet encoder)', () => {
  it('resnet34: 24,436,369 parameters under smp names; resnet18: 14,328,209', () => {
    const specs = modelParamSpecs(si('si_resnet34_unet'));
    const params = specs.filter((s) => s.kind === 'param');
    expect(parameterCount(params)).to.equal(24_436_369);
    const shapes = new Map(specs.map((s) => [s.name, s.shape.join(',')]));
    expect(shapes.get('encoder.conv1.weight')).to.equal('64,3,7,7');
    expect(shapes.get('encoder.layer1.0.conv1.weight')).to.equal('64,64,3,3');
    expect(shapes.get('encoder.layer2.0.downsample.0.weight')).to.equal('128,64,1,1');
    expect(shapes.get('encoder.layer4.2.bn2.running_var')).to.equal('512');
    expect(shapes.get('decoder.blocks.0.conv1.0.weight')).to.equal('256,768,3,3');
    expect(shapes.get('decoder.blocks.4.conv2.1.weight')).to.equal('16');
    expect(shapes.get('segmentation_head.0.weight')).to.equal('1,16,3,3');
    expect(shapes.get('segmentation_head.0.bias')).to.equal('1');
    expect(shapes.has('encoder.layer1.0.downsample.0.weight')).to.equal(false);
    expect(
      specs.filter((s) => s.kind === 'buffer').every((s) => /\.running_(mean|var)$/.test(s.name)),
    ).to.equal(true);
    const r18 = modelParamSpecs(si('si_resnet18_unet')).filter((s) => s.kind === 'param');
    expect(parameterCount(r18)).to.equal(14_328_209);
  });

  it('initialises like torchvision/smp without pretrained weights', () => {
    const specs = modelParamSpecs(si('si_resnet18_unet'));
    const v = initialValues(specs, 1);
    const std = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(std(v.get('encoder.layer3.0.conv2.weight')!)).to.be.closeTo(Math.sqrt(2 / (256 * 9)), 0.002); // kaiming_normal fan_out
    const dec = v.get('decoder.blocks.1.conv1.0.weight')!; // kaiming_uniform fan_in: bound sqrt(6 / fan_in)
    expect(dec.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).to.be.within(
      0.95 * Math.sqrt(6 / (384 * 9)),
      Math.sqrt(6 / (384 * 9)),
    );
    expect(Array.from(v.get('segmentation_head.0.bias')!)).to.deep.equal([0]);
    expect(Array.from(v.get('encoder.bn1.running_var')!).every((x) => x === 1)).to.equal(true);
    expect(Array.from(v.get('encoder.bn1.weight')!).every((x) => x === 1)).to.equal(true);
  });

  it('rejects non-square frame counts and super-image sides not divisible by 32', () => {
    expect(() => si('si_resnet34_unet', 12)).to.throw(/perfect-square/);
    expect(() => si('si_resnet34_unet', 9, 24, 1, 40)).to.throw(/divisible by 32/);
    expect(() => si('si_resnet34_unet', 16, 40, 1, 32)).to.throw(/smaller than the frame size/);
  });

  it('tiling: frames padded with raw 0 (= -mean/std), row-major grid; untiling is the exact inverse', async () => {
    const [N, T, S, tile] = [2, 9, 5, 8];
    const b = new GraphBuilder();
    const frames = b.input('frames', 'uint8', ['N', T, S, S, 3]);
    const padded = normalise(padFrames(rawFloat(frames), tile), norm);
    const image = tileSuperImage(padded, tile);
    b.output(image, 'image');
    b.output(slice(padded, [0], [1], [4]), 'padded0');
    b.output(untileSuperImage(slice(image, [0], [1], [1]), T, tile), 'roundtrip');
    const rng = new Rng(3);
    const data = Uint8Array.from({ length: N * T * S * S * 3 }, () => rng.int(0, 255));
    const out = await (
      await createSession(b.toGraph('tiling'))
    ).run({ frames: tensor('uint8', data, [N, T, S, S, 3]) });
    const img = out.image.data as Float32Array;
    const side = 3 * tile;
    expect(out.image.dims).to.deep.equal([N, 3, side, side]);
    const normalised = (raw: number, c: number) => (raw / 255 - norm.mean[c]) / norm.std[c];
    for (const [n, k, y, x, c] of [
      [0, 0, 0, 0, 0],
      [1, 4, 2, 3, 1],
      [1, 8, 4, 4, 2],
      [0, 5, 0, 4, 0],
    ]) {
      const at = ((n * 3 + c) * side + Math.floor(k / 3) * tile + y) * side + (k % 3) * tile + x;
      expect(img[at]).to.be.closeTo(normalised(data[(((n * T + k) * S + y) * S + x) * 3 + c], c), 1e-5);
    }
    // Pads (rows/columns >= S of every tile) hold the normalised value of raw 0.
    for (const c of [0, 1, 2]) {
      const pad = img[((1 * 3 + c) * side + 2 * tile + S) * side + tile + 1];
      expect(pad).to.be.closeTo(-norm.mean[c] / norm.std[c], 1e-6);
      expect(img[((0 * 3 + c) * side + 0 * tile + 1) * side + 2 * tile + tile - 1]).to.be.closeTo(
        -norm.mean[c] / norm.std[c],
        1e-6,
      );
    }
    expect(Array.from(out.roundtrip.data as Float32Array)).to.deep.equal(
      Array.from(out.padded0.data as Float32Array),
    );
  });

  it('model output is cut back to [N, T, H, W] frames: frame k is the top-left H x W of grid tile (k / n, k % n)', async () => {
    const [T, S, tile] = [4, 24, 32];
    const model = si('si_resnet18_unet', T, S, 0.125, tile);
    const b = new GraphBuilder();
    const ctx = new ModelContext(b, inputSource, false);
    const frames = b.input('frames', 'uint8', ['N', T, S, S, 3]);
    expect(model.toFrames(model.forward(ctx, model.prepare(rawFloat(frames)))).shape).to.deep.equal([
      'N',
      T,
      S,
      S,
    ]);
    // The cut itself, run on a super-image whose every pixel holds its own index.
    const side = 2 * tile;
    const g = new GraphBuilder();
    g.output(model.toFrames(g.input('image', 'float32', [2, 1, side, side])), 'frames');
    const image = Float32Array.from({ length: 2 * side * side }, (_, i) => i);
    const out = (
      await (
        await createSession(g.toGraph('cut'))
      ).run({ image: tensor('float32', image, [2, 1, side, side]) })
    ).frames;
    expect(out.dims).to.deep.equal([2, T, S, S]);
    const got = out.data as Float32Array;
    for (let n = 0; n < 2; n++)
      for (let k = 0; k < T; k++)
        for (const [y, x] of [
          [0, 0],
          [S - 1, S - 1],
          [3, 17],
        ]) {
          const at = (n * side + Math.floor(k / 2) * tile + y) * side + (k % 2) * tile + x;
          expect(got[((n * T + k) * S + y) * S + x], `clip ${n} frame ${k} (${y}, ${x})`).to.equal(image[at]);
        }
  });

  // ResNet-34 has the same blocks as ResNet-18, only more of them.
  for (const encoder of ['si_resnet18_unet'] as const)
    it(`whole-model gradient of a tiny ${encoder} (width 0.0625, 2 clips of T=4 frames of 32x32, BatchNorm on batch statistics): every trained tensor within 2 % of finite differences (float32)`, async function () {
      this.timeout(300_000);
      // Frames as large as their tiles: padding would leave constant regions where max-pooling
      // ties, and at a tie the loss has no derivative for finite differences to approximate.
      const model = si(encoder, 4, 32, 0.0625, 32);
      // ReLU kinks make some estimates jump with the step size: with input seed 11 the estimates of
      // encoder.layer1.0.bn1.bias spread over 210-235 (analytic 217.25 with either BatchNorm form),
      // and which one fell within 2 % hung on rounding. Seeds 12-14 pass with both forms; a BatchNorm
      // rule reducing over the wrong axes fails (encoder.conv1.weight 9.5 % off).
      await checkSuperImageGradients(model, 12, [1e-4, 3e-5, 1e-5]);
    });

  it('BatchNorm in training mode: batch statistics, PyTorch running-stat update, caller buffers untouched', async () => {
    const b = new GraphBuilder();
    const ctx = new ModelContext(b, inputSource, true);
    const x = b.input('x', 'float32', ['N', 2, 3, 2]);
    const bn = declareBatchNorm(ctx, 'bn', 2);
    b.output(applyBatchNorm(ctx, bn, x), 'y');
    for (const r of ctx.runningStats) b.output(r.value, r.name);
    const rng = new Rng(9);
    const xs = Float32Array.from({ length: 3 * 12 }, () => rng.normal() * 2 + 1);
    const feeds = {
      x: tensor('float32', xs, [3, 2, 3, 2]),
      'bn.weight': tensor('float32', Float32Array.of(1.5, 0.5), [2]),
      'bn.bias': tensor('float32', Float32Array.of(0.1, -0.2), [2]),
      'bn.running_mean': tensor('float32', Float32Array.of(0.3, -0.4), [2]),
      'bn.running_var': tensor('float32', Float32Array.of(2, 0.5), [2]),
    };
    const out = await (await createSession(b.toGraph('bn'))).run(feeds);
    for (let c = 0; c < 2; c++) {
      const vals: number[] = [];
      for (let n = 0; n < 3; n++) for (let i = 0; i < 6; i++) vals.push(xs[(n * 2 + c) * 6 + i]);
      const mean = vals.reduce((a, v) => a + v, 0) / 18;
      const ss = vals.reduce((a, v) => a + (v - mean) ** 2, 0);
      expect((out['bn.running_mean.new'].data as Float32Array)[c]).to.be.closeTo(
        0.9 * [0.3, -0.4][c] + 0.1 * mean,
        1e-5,
      );
      expect((out['bn.running_var.new'].data as Float32Array)[c]).to.be.closeTo(
        0.9 * [2, 0.5][c] + (0.1 * ss) / 17,
        1e-5,
      );
      const y0 = (out.y.data as Float32Array)[c * 6];
      expect(y0).to.be.closeTo(
        [1.5, 0.5][c] * ((vals[0] - mean) / Math.sqrt(ss / 18 + 1e-5)) + [0.1, -0.2][c],
        1e-4,
      );
    }
    expect(Array.from(feeds['bn.running_mean'].data as Float32Array)).to.deep.equal([
      Math.fround(0.3),
      Math.fround(-0.4),
    ]);
    expect(Array.from(feeds['bn.running_var'].data as Float32Array)).to.deep.equal([2, 0.5]);
  });

  it('BatchNorm in training mode matches a float64 BatchNorm to 1e-6 on channels dominated by one repeated value', async () => {
    // Like a conv output over a super-image of SSL-masked frames: 10 of 16 tiles hold one constant.
    const [n, c, side] = [2, 3, 256];
    const tile = side / 4;
    const rng = new Rng(4);
    const xs = new Float32Array(n * c * side * side);
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < side * side; i++) {
        const k = Math.floor(i / side / tile) * 4 + Math.floor((i % side) / tile);
        xs[p * side * side + i] = k < 10 ? 0.37 + 0.1 * (p % c) : 0.3 * rng.normal() + 0.1 * (p % c);
      }
    const b = new GraphBuilder();
    const ctx = new ModelContext(b, inputSource, true);
    const x = b.input('x', 'float32', ['N', c, side, side]);
    b.output(applyBatchNorm(ctx, declareBatchNorm(ctx, 'bn', c), x), 'y');
    const ones = Float32Array.from({ length: c }, () => 1);
    const out = await (
      await createSession(b.toGraph('bn'))
    ).run({
      x: tensor('float32', xs, [n, c, side, side]),
      'bn.weight': tensor('float32', ones, [c]),
      'bn.bias': tensor('float32', new Float32Array(c), [c]),
      'bn.running_mean': tensor('float32', new Float32Array(c), [c]),
      'bn.running_var': tensor('float32', ones, [c]),
    });
    const y = out.y.data as Float32Array;
    const plane = side * side;
    let [err, scale] = [0, 0];
    for (let ch = 0; ch < c; ch++) {
      let [sum, ss] = [0, 0];
      for (let k = 0; k < n; k++) for (let i = 0; i < plane; i++) sum += xs[(k * c + ch) * plane + i];
      const mean = sum / (n * plane);
      for (let k = 0; k < n; k++)
        for (let i = 0; i < plane; i++) ss += (xs[(k * c + ch) * plane + i] - mean) ** 2;
      const rstd = 1 / Math.sqrt(ss / (n * plane) + 1e-5);
      for (let k = 0; k < n; k++)
        for (let i = 0; i < plane; i++) {
          const j = (k * c + ch) * plane + i;
          const ref = (xs[j] - mean) * rstd;
          err += (y[j] - ref) ** 2;
          scale += ref ** 2;
        }
    }
    expect(Math.sqrt(err / scale)).to.be.below(1e-6);
  });

  it('BatchNorm in training mode: gradients of x, weight and bias match finite differences', async () => {
    const t = (name: string, shape: number[], extra = {}) => ({
      name,
      shape,
      dtype: 'float32' as const,
      ...extra,
    });
    await gradCheck(
      [
        t('x', [3, 2, 4, 3]),
        t('bn.weight', [2]),
        t('bn.bias', [2]),
        t('bn.running_mean', [2], { wrt: false }),
        t('bn.running_var', [2], { wrt: false, data: Float32Array.of(1, 2) }),
      ],
      ([x, ...p]: Value[]) => {
        const byName = new Map(p.map((v) => [v.name, v]));
        const ctx = new ModelContext(x.b, (_b, spec) => byName.get(spec.name)!, true);
        return applyBatchNorm(ctx, declareBatchNorm(ctx, 'bn', 2), x);
      },
      { eps: 1e-2, rtol: 2e-3, atol: 1e-3 },
    );
  });
});
