import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ModelContext,
  initialValues,
  inputSource,
  trainedParamCount,
  type ParamSpec,
} from '../../graphs/layers.js';
import { numel } from '../../src/onnx/ir.js';
import { createModel, modelParamSpecs, type EncoderName, type SegModel } from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import { cast, mul, reduceSum } from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

const TSV = { '3d_unet': 'unet3d-state-dict.tsv', '3d_unet_small': 'unet3d-small-state-dict.tsv' } as const;

function upstreamStateDict(file: string): string[] {
  // The upstream parameter lists (docs/upstream.md#unet3d); tests run from dist/test/models.
  return readFileSync(
    fileURLToPath(new URL(`../../../test/models/fixtures/${file}`, import.meta.url)),
    'utf8',
  )
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('key\t'))
    .map((l) => l.replace('\t', ' '));
}

const count = trainedParamCount;
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
        upstreamStateDict(TSV[encoder]),
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

  it('whole-model gradient of a tiny UNet3D (width 0.0625, T=16, H=W=32) matches finite differences (float32)', async function () {
    this.timeout(120_000);
    // H = W = 32 keeps a 1x2x2 bottleneck: at 16 it would be one voxel, where instance norm is
    // degenerate (PyTorch refuses it in training).
    const model = model3d('3d_unet', 16, 32, 0.0625);
    const specs = modelParamSpecs(model);
    const init = initialValues(specs, 3);
    const withGrads = await lossGraph(model, specs, true);
    const lossOnly = await lossGraph(model, specs, false);
    const rng = new Rng(11);
    const x = tensor(
      'float32',
      Float32Array.from({ length: 3 * 16 * 32 * 32 }, () => rng.normal()),
      [1, 3, 16, 32, 32],
    );
    const feeds = (name?: string, value?: Float32Array) => ({
      x,
      ...Object.fromEntries(
        specs.map((s) => [s.name, tensor('float32', s.name === name ? value! : init.get(s.name)!, s.shape)]),
      ),
    });
    const base = await withGrads.run(feeds());
    const lossAt = async (name: string, v: Float64Array, step: number) =>
      Number(
        (
          await lossOnly.run(
            feeds(
              name,
              Float32Array.from(init.get(name)!, (w, i) => w + step * v[i]),
            ),
          )
        ).loss.data[0],
      );
    // Every kind of parameter at every depth: each 5th one, plus the first and the last.
    const checked = specs.filter((_, i) => i % 5 === 0 || i === specs.length - 1);
    for (const s of checked) {
      // Along the gradient itself the directional derivative is largest (|g|), so the loss's
      // rounding noise matters least; a wrong direction or scale still shows.
      const g = base[`${s.name}.grad`].data as Float32Array;
      const gn = Math.sqrt(g.reduce((a, gi) => a + gi * gi, 0)) || 1;
      const v = Float64Array.from(g, (gi) => (gi / gn) * Math.sqrt(g.length));
      const analytic = g.reduce((a, gi, i) => a + gi * v[i], 0);
      // A float32 network with PReLU kinks and instance norms over tiny maps is far from linear at
      // step sizes above its rounding noise, so central differences converge slowly and no one
      // step suits every parameter: the best of four step sizes must agree to 5% (a wrong rule
      // is off by far more; these gradients also match PyTorch autograd in float64 to 2e-4, a
      // comparison that needs torch and so is not part of this suite).
      const numeric: number[] = [];
      for (const eps of [1e-3, 3e-4, 1e-4, 3e-5])
        numeric.push(((await lossAt(s.name, v, eps)) - (await lossAt(s.name, v, -eps))) / (2 * eps));
      const err = Math.min(...numeric.map((n) => Math.abs(n - analytic)));
      // Where the three smaller steps already disagree by a few percent (rounding noise, e.g. a
      // PReLU slope over many near-zero activations), lying between them counts too: a wrong rule
      // is off by more than that spread, which itself must stay under 20%.
      const fine = numeric.slice(1);
      const [lo, hi] = [Math.min(...fine), Math.max(...fine)];
      const bracketed = analytic >= lo && analytic <= hi && hi - lo <= 0.2 * Math.abs(analytic);
      const message = `d loss / d ${s.name}: analytic ${analytic}, numeric ${numeric.join(', ')}`;
      if (!bracketed) expect(err, message).to.be.at.most(0.05 + 0.05 * Math.abs(analytic));
    }
  });
});

/** loss = sum(model(x) * R) in float64 for a fixed random R, with or without every parameter's gradient. */
async function lossGraph(model: SegModel, specs: ParamSpec[], withGradients: boolean) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 3, 16, 32, 32]);
  const ctx = new ModelContext(b, inputSource, true);
  const y = model.forward(ctx, x);
  const dims = y.shape.map(Number);
  const rng = new Rng(5);
  const r = Float64Array.from({ length: numel(dims) }, () => rng.normal());
  const loss = reduceSum(
    mul(cast(y, 'float64'), b.constant(r, 'float64', dims, 'R')),
    dims.map((_, i) => i),
    false,
  );
  b.output(loss, 'loss');
  if (withGradients) {
    const g = gradients(
      b,
      loss,
      specs.map((s) => ctx.values.get(s.name)!),
    );
    for (const s of specs) b.output(g.get(s.name)!, `${s.name}.grad`);
  }
  const graph = b.toGraph('unet3d_gradcheck');
  assertGraphOk(graph);
  return createSession(graph);
}
