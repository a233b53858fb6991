import { expect } from 'chai';
import { initialValues, parameterCount } from '../../graphs/layers.js';
import { numel } from '../../src/onnx/ir.js';
import { createModel, modelParamSpecs, type EncoderName } from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { Rng } from '../../src/util/rng.js';
import { checkModelGradients } from '../helpers/model-gradcheck.js';
import { upstreamStateDict } from '../helpers/upstream-state-dict.js';

const count = parameterCount;
const model3d = (encoder: EncoderName, frames: number, size: number, widthMult = 1) =>
  createModel({ encoder, frames, size, widthMult, ...ECHONET_NORMALISATION });

describe('UNet3D / UNet3DSmall (docs/upstream.md#unet3d)', () => {
  for (const [encoder, params] of [
    ['3d_unet', 18_832_525],
    ['3d_unet_small', 11_255_101],
  ] as const) {
    it(`${encoder}: names, upstream shapes and order equal the upstream state dict; ${params.toLocaleString('en-US')} parameters`, () => {
      const specs = modelParamSpecs(model3d(encoder, 32, 112));
      expect(specs.map((s) => `${s.name} ${s.upstreamShape.join(',')}`)).to.deep.equal(
        upstreamStateDict(encoder),
      );
      expect(count(specs)).to.equal(params);
      expect(specs.every((s) => s.kind === 'param')).to.equal(true);
    });
  }

  it('3D kernels are stored upstream as (kH, kW, kT): graph [.., kT, kH, kW] = upstream.permute(0, 1, 4, 2, 3)', () => {
    const specs = modelParamSpecs(model3d('3d_unet', 16, 32));
    const byName = new Map(specs.map((s) => [s.name, s]));
    expect(byName.get('encoder1.0.conv.unit0.conv.weight')!.permutation).to.deep.equal([0, 1, 4, 2, 3]);
    expect(byName.get('upconv5.conv.weight')!.upstreamShape).to.deep.equal([256, 128, 3, 3, 3]);
    expect(byName.get('encoder1.0.conv.unit0.conv.bias')!.permutation).to.deep.equal([0]);
  });

  it('--width_mult narrows channels but keeps names; the output stays one channel', () => {
    const full = modelParamSpecs(model3d('3d_unet', 16, 32));
    const narrow = modelParamSpecs(model3d('3d_unet', 16, 32, 0.0625));
    expect(narrow.map((s) => s.name)).to.deep.equal(full.map((s) => s.name));
    const shape = (name: string) => narrow.find((s) => s.name === name)!.shape;
    expect(shape('encoder1.0.conv.unit0.conv.weight')).to.deep.equal([1, 3, 3, 3, 3]);
    expect(shape('encoder5.0.conv.unit0.conv.weight')).to.deep.equal([16, 8, 3, 3, 3]);
    expect(shape('decoder1.conv.unit1.conv.weight')).to.deep.equal([1, 1, 3, 3, 3]);
  });

  it('initialises like PyTorch: U(+-1/sqrt(fan_in)) weights and biases (ConvTranspose fan_in from dim 1), PReLU 0.25', () => {
    const specs = modelParamSpecs(model3d('3d_unet', 16, 32, 0.5));
    const values = initialValues(specs, 42);
    const bound = (name: string) => values.get(name)!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(bound('encoder2.0.conv.unit1.conv.weight')).to.be.within(
      0.95 / Math.sqrt(16 * 27),
      1 / Math.sqrt(16 * 27),
    );
    expect(bound('upconv5.conv.weight')).to.be.within(0.95 / Math.sqrt(64 * 27), 1 / Math.sqrt(64 * 27));
    expect(bound('encoder1.0.residual.bias')).to.be.at.most(1 / Math.sqrt(3));
    expect(Array.from(values.get('upconv3.adn.A.weight')!)).to.deep.equal([0.25]);
    // Seeded: the same seed gives the same weights, another seed others.
    expect(initialValues(specs, 42).get('encoder3.1.conv.unit0.conv.weight')).to.deep.equal(
      values.get('encoder3.1.conv.unit0.conv.weight'),
    );
    expect(initialValues(specs, 7).get('encoder3.1.conv.unit0.conv.weight')).to.not.deep.equal(
      values.get('encoder3.1.conv.unit0.conv.weight'),
    );
  });

  it('rejects clips whose T, H or W is not a multiple of 16', () => {
    expect(() => model3d('3d_unet', 20, 112)).to.throw(/divisible by 16.*T=20/);
    expect(() => model3d('3d_unet_small', 32, 100)).to.throw(/divisible by 16.*H=W=100/);
  });

  it('whole-model gradient of a tiny UNet3D (width 0.0625, T=16, H=W=32): every trained tensor within 2 % of finite differences (float32)', async function () {
    this.timeout(300_000);
    // H = W = 32 keeps a 1x2x2 bottleneck: at 16 it would be one voxel, where instance norm is
    // degenerate (PyTorch refuses it in training). These gradients also match PyTorch autograd in
    // float64 to 2e-4, a comparison that needs torch (tools/torch-baseline) and so is not run here.
    const model = model3d('3d_unet', 16, 32, 0.0625);
    const rng = new Rng(11);
    const inputShape = [1, 3, 16, 32, 32];
    const checked = await checkModelGradients({
      model,
      inputShape,
      input: Float32Array.from({ length: numel(inputShape) }, () => rng.normal()),
      forward: (ctx, x) => model.forward(ctx, x),
      steps: [3e-3, 1e-3, 3e-4],
      rtol: 0.02,
      atolOfMax: 5e-5,
    });
    expect(checked).to.equal(modelParamSpecs(model).length);
  });
});
