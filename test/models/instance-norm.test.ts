import { expect } from 'chai';
import { accurateInstanceNorm } from '../../graphs/layers.js';
import { createModel } from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { sslGraph, weakGraph } from '../../graphs/tasks.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';
import { gradCheck } from '../helpers/gradcheck.js';

const f32 = { eps: 1e-2, rtol: 2e-3, atol: 1e-3 };

/** InstanceNorm of each [S] plane of x in float64: (x - mean) / sqrt(var + 1e-5). */
function referenceNorm(x: Float32Array, planes: number): Float64Array {
  const s = x.length / planes;
  const y = new Float64Array(x.length);
  for (let p = 0; p < planes; p++) {
    let m = 0;
    for (let i = 0; i < s; i++) m += x[p * s + i];
    m /= s;
    let v = 0;
    for (let i = 0; i < s; i++) v += (x[p * s + i] - m) ** 2;
    const r = 1 / Math.sqrt(v / s + 1e-5);
    for (let i = 0; i < s; i++) y[p * s + i] = (x[p * s + i] - m) * r;
  }
  return y;
}

describe('accurateInstanceNorm (training graphs: InstanceNorm with accurate statistics)', () => {
  it('matches a float64 InstanceNorm to 1e-6 on planes dominated by one repeated value', async () => {
    // Like a conv output over SSL's blacked-out frames: 10 of 16 frames hold one constant.
    const [n, c, t, h, w] = [2, 3, 16, 64, 64];
    const rng = new Rng(3);
    const x = new Float32Array(n * c * t * h * w);
    for (let p = 0; p < n * c; p++)
      for (let f = 0; f < t; f++)
        for (let i = 0; i < h * w; i++)
          x[(p * t + f) * h * w + i] = f < 10 ? 0.37 + 0.1 * p : 0.3 * rng.normal() + 0.1 * p;
    const b = new GraphBuilder();
    const input = b.input('x', 'float32', ['N', c, t, h, w]);
    b.output(accurateInstanceNorm(input), 'y');
    const session = await createSession(b.toGraph('norm'));
    const y = (await session.run({ x: tensor('float32', x, [n, c, t, h, w]) })).y.data as Float32Array;
    const ref = referenceNorm(x, n * c);
    let err = 0;
    let scale = 0;
    for (let i = 0; i < ref.length; i++) {
      err += (y[i] - ref[i]) ** 2;
      scale += ref[i] ** 2;
    }
    expect(Math.sqrt(err / scale)).to.be.below(1e-6);
  });

  it('gradient by finite differences: the statistics are differentiated as x batch statistics', async () => {
    await gradCheck(
      [{ name: 'x', shape: [2, 3, 2, 3, 4], dtype: 'float32' }],
      ([x]) => accurateInstanceNorm(x),
      f32,
    );
    // 1-D spatial: the statistics are plain row means
    await gradCheck(
      [{ name: 'x', shape: [2, 2, 7], dtype: 'float32' }],
      ([x]) => accurateInstanceNorm(x),
      f32,
    );
  });

  it('UNet3D train graphs normalise with it; eval graphs keep ORT InstanceNormalization', () => {
    const model = createModel({
      encoder: '3d_unet_small',
      frames: 16,
      size: 32,
      widthMult: 0.0625,
      ...ECHONET_NORMALISATION,
    });
    const count = (mode: 'train' | 'eval', op: string) =>
      [sslGraph(model, mode), weakGraph(model, mode)].map(
        (t) => t.graph.nodes.filter((n) => n.op === op).length,
      );
    // 20 encoder + 7 decoder units with a norm, 4 up-convs: 31 norms per graph
    expect(count('train', 'InstanceNormalization')).to.deep.equal([0, 0]);
    expect(count('train', 'BatchNormalization')).to.deep.equal([31, 31]);
    expect(count('eval', 'InstanceNormalization')).to.deep.equal([31, 31]);
  });
});
