import { expect } from 'chai';
import { initialValues } from '../../graphs/layers.js';
import { createModel, modelParamSpecs } from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { inferenceGraph } from '../../graphs/tasks.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';

describe('3d_unet at full size (slow: about 10-20 s on 2 cores)', function () {
  this.timeout(90_000);

  it('model.onnx of the full UNet3D loads in ORT and segments one 1x32x112x112 clip', async () => {
    const model = createModel({
      encoder: '3d_unet',
      frames: 32,
      size: 112,
      widthMult: 1,
      ...ECHONET_NORMALISATION,
    });
    const specs = modelParamSpecs(model);
    const graph = inferenceGraph(model, initialValues(specs, 42), { encoder: '3d_unet' });
    assertGraphOk(graph);
    expect(
      [...graph.initializers.values()].reduce(
        (a, t) => a + (specs.some((s) => t === graph.initializers.get(s.name)) ? t.data.length : 0),
        0,
      ),
    ).to.equal(18_832_525);
    const session = await createSession(graph, { threads: 2 });
    const frames = Uint8Array.from({ length: 32 * 112 * 112 * 3 }, (_, i) => (i * 2654435761) >>> 24);
    const { logits } = await session.run({ frames: tensor('uint8', frames, [1, 32, 112, 112, 3]) });
    expect(logits.dims).to.deep.equal([1, 32, 112, 112]);
    const data = logits.data as Float32Array;
    expect(data.every(Number.isFinite)).to.equal(true);
    expect(Math.max(...data.subarray(0, 4096)) > Math.min(...data.subarray(0, 4096))).to.equal(true);
  });
});
