// Whole-model finite-difference check: every trained tensor of a small model, in training mode.
import { expect } from 'chai';
import { ModelContext, initialValues, inputSource } from '../../graphs/layers.js';
import { modelParamSpecs, type SegModel } from '../../graphs/models.js';
import { gradients } from '../../src/autodiff/grad.js';
import { GraphBuilder, type Value } from '../../src/onnx/builder.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import { numel } from '../../src/onnx/ir.js';
import { cast, mul, reduceSum } from '../../src/onnx/ops/index.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';

export interface ModelGradCheck {
  model: SegModel;
  /** shape of the float32 network input fed to `forward` */
  inputShape: number[];
  input: Float32Array;
  /** the network from its input to its output, in training mode */
  forward: (ctx: ModelContext, x: Value) => Value;
  /**
   * Step sizes, relative to each tensor's RMS: the model is far from linear at steps above float32
   * noise (norms over tiny maps), so several are tried and extrapolated.
   */
  steps: number[];
  /** relative tolerance on each tensor's directional derivative */
  rtol: number;
  /** absolute tolerance, as a fraction of the largest directional derivative of any tensor */
  atolOfMax: number;
}

/**
 * loss = sum(forward(x) * R) in float64 for a fixed random R. For EVERY trained tensor, the
 * derivative along its own gradient direction (largest, so least drowned by rounding; scaled to the
 * tensor's RMS) is compared with central differences at each step size and with the Richardson
 * extrapolation of neighbouring pairs (which cancels the h^2 term); the best of them must agree
 * within rtol * |analytic| + atolOfMax * max|analytic|. The absolute part covers tensors whose true
 * gradient is ~0, e.g. conv biases followed by instance norm, which removes any per-channel constant.
 * Returns the number of tensors checked.
 */
export async function checkModelGradients(c: ModelGradCheck): Promise<number> {
  const specs = modelParamSpecs(c.model);
  const trained = specs.filter((s) => s.kind === 'param');
  const init = initialValues(specs, 3);
  const build = async (withGradients: boolean) => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', c.inputShape);
    const ctx = new ModelContext(b, inputSource, true);
    const y = c.forward(ctx, x);
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
        trained.map((s) => ctx.values.get(s.name)!),
      );
      for (const s of trained) b.output(g.get(s.name)!, `${s.name}.grad`);
    }
    const graph = b.toGraph('model_gradcheck');
    assertGraphOk(graph);
    return createSession(graph);
  };
  const [withGrads, lossOnly] = await Promise.all([build(true), build(false)]);
  const x = tensor('float32', c.input, c.inputShape);
  const feeds = (name?: string, value?: Float32Array) => ({
    x,
    ...Object.fromEntries(
      specs
        .filter((s) => withGrads.inputNames.includes(s.name))
        .map((s) => [s.name, tensor('float32', s.name === name ? value! : init.get(s.name)!, s.shape)]),
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

  const results: { name: string; analytic: number; numeric: number[] }[] = [];
  for (const s of trained) {
    const g = base[`${s.name}.grad`].data as Float32Array;
    const w = init.get(s.name)!;
    const rms = Math.sqrt(w.reduce((a, wi) => a + wi * wi, 0) / w.length) || 1;
    const gn = Math.sqrt(g.reduce((a, gi) => a + gi * gi, 0)) || 1;
    const v = Float64Array.from(g, (gi) => (gi / gn) * Math.sqrt(g.length) * rms);
    const analytic = g.reduce((a, gi, i) => a + gi * v[i], 0);
    const numeric: number[] = [];
    for (const h of c.steps)
      numeric.push(((await lossAt(s.name, v, h)) - (await lossAt(s.name, v, -h))) / (2 * h));
    for (let k = 0; k + 1 < c.steps.length; k++) {
      const [h1, h2] = [c.steps[k], c.steps[k + 1]];
      numeric.push((h1 * h1 * numeric[k + 1] - h2 * h2 * numeric[k]) / (h1 * h1 - h2 * h2));
    }
    results.push({ name: s.name, analytic, numeric });
  }
  const largest = Math.max(...results.map((r) => Math.abs(r.analytic)));
  for (const { name, analytic, numeric } of results) {
    const err = Math.min(...numeric.map((n) => Math.abs(n - analytic)));
    expect(err, `d loss / d ${name}: analytic ${analytic}, numeric ${numeric.join(', ')}`).to.be.at.most(
      c.rtol * Math.abs(analytic) + c.atolOfMax * largest,
    );
  }
  return results.length;
}

/**
 * The super-image models' whole-model check: a [2, 4, 32, 32, 3] batch of pixels drawn with
 * `inputSeed`, through prepare, forward and the tiles back to frames, within 2 % (+5e-5 of the
 * largest). Every trained tensor must be checked.
 */
export async function checkSuperImageGradients(model: SegModel, inputSeed: number, steps: number[]) {
  const rng = new Rng(inputSeed);
  const inputShape = [2, 4, 32, 32, 3];
  const checked = await checkModelGradients({
    model,
    inputShape,
    input: Float32Array.from({ length: numel(inputShape) }, () => rng.range(0, 255)),
    forward: (ctx, raw) => model.toFrames(model.forward(ctx, model.prepare(raw))),
    steps,
    rtol: 0.02,
    atolOfMax: 5e-5,
  });
  expect(checked).to.equal(modelParamSpecs(model).filter((p) => p.kind === 'param').length);
}
