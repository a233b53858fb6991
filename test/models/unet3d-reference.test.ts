// The full-width UNet3D (every production form, the shifted-taps 32 -> 1 conv included) against
// values PyTorch computed for the same weights and clip (tools/torch-baseline/reference_logits.py).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelContext, initialValues, inputSource } from '../../graphs/layers.js';
import { createModel, modelParamSpecs } from '../../graphs/models.js';
import { ECHONET_NORMALISATION, rawFloat } from '../../graphs/preprocess.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { syntheticClip } from '../../tools/bench-common.js';

interface Reference {
  encoder: '3d_unet';
  frames: number;
  size: number;
  seed: number;
  points: { t: number; y: number; x: number; logit: number }[];
  sum: number;
  absSum: number;
}

describe('UNet3D at full width against PyTorch (fixed weights and clip)', function () {
  this.timeout(300_000);

  it('logits at ten positions (frame corners included) within 1e-4 of PyTorch float64, their sum over the clip within 1e-6 relative', async () => {
    const ref = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../../test/models/fixtures/unet3d-reference.json', import.meta.url)),
        'utf8',
      ),
    ) as Reference;
    const { frames: T, size: S } = ref;
    const model = createModel({
      encoder: ref.encoder,
      frames: T,
      size: S,
      widthMult: 1,
      ...ECHONET_NORMALISATION,
    });
    const specs = modelParamSpecs(model);
    // The weights build-graph --seed writes into checkpoint.safetensors, in our graphs' layout.
    const weights = initialValues(specs, ref.seed);
    const b = new GraphBuilder();
    const ctx = new ModelContext(b, inputSource, false);
    const clip = b.input('frames', 'uint8', [1, T, S, S, 3]);
    b.output(model.toFrames(model.forward(ctx, model.prepare(rawFloat(clip)))), 'logits');
    const graph = b.toGraph('unet3d_reference');
    // decoder1's 32 -> 1 conv is the shifted-taps form on the CPU: its kernel never feeds a Conv as is.
    const w = 'decoder1.conv.unit0.conv.weight';
    const consumers = graph.nodes.filter((n) => n.inputs.includes(w)).map((n) => n.op);
    expect(consumers).to.have.length.above(0);
    expect(consumers).to.not.include('Conv');
    const session = await createSession(graph, { threads: 2 });
    const out = await session.run({
      frames: tensor('uint8', syntheticClip(T, S), [1, T, S, S, 3]),
      ...Object.fromEntries(specs.map((s) => [s.name, tensor('float32', weights.get(s.name)!, s.shape)])),
    });
    const logits = out.logits.data as Float32Array;
    for (const p of ref.points)
      expect(logits[(p.t * S + p.y) * S + p.x], `logit at frame ${p.t}, (${p.y}, ${p.x})`).to.be.closeTo(
        p.logit,
        1e-4,
      );
    const sum = logits.reduce((a, v) => a + v, 0);
    expect(sum).to.be.closeTo(ref.sum, 1e-6 * ref.absSum);
  });
});
