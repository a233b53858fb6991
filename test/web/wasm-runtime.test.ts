import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import * as web from 'onnxruntime-web';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { Rng } from '../../src/util/rng.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';

// The same model.onnx must run in a browser: onnxruntime-web (WebAssembly, under Node here) gives
// the same logits as onnxruntime-node.
describe('model.onnx in onnxruntime-web (wasm)', function () {
  this.timeout(120_000);

  it('gives the same logits as onnxruntime-node', async () => {
    const set = await tinyArtifactSet();
    const bytes = readFileSync(set.files.model);
    const { frames: T, size } = set.manifest.model;
    const rng = new Rng(9);
    const frames = Uint8Array.from({ length: T * size * size * 3 }, () => rng.int(0, 255));
    const native = await createSession(bytes);
    const a = (await native.run({ frames: tensor('uint8', frames, [1, T, size, size, 3]) })).logits
      .data as Float32Array;
    web.env.wasm.numThreads = 1;
    const session = await web.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const b = (await session.run({ frames: new web.Tensor('uint8', frames, [1, T, size, size, 3]) })).logits
      .data as Float32Array;
    expect(b.length).to.equal(a.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).to.be.below(1e-3);
    expect(new Set(Array.from(a.subarray(0, 1000), (v) => v.toFixed(3))).size).to.be.above(10); // not a constant output
  });
});
