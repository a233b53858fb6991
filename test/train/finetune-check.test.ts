import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { ArtifactSet } from '../../src/artifacts/index.js';
import { decodeGraph } from '../../src/onnx/serialize.js';
import { checkTrainingGraphs } from '../../src/train/finetune.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';

/** checkTrainingGraphs on set `graphs`'s training graphs against set `model`'s model.onnx. */
function check(model: ArtifactSet, graphs: ArtifactSet): void {
  const m = decodeGraph(readFileSync(model.files.model));
  const inputs = (path: string) => decodeGraph(readFileSync(path)).inputs;
  checkTrainingGraphs(
    'dropped set',
    'model.onnx',
    { initializers: m.initializers, frames: model.manifest.model.frames, size: model.manifest.model.size },
    graphs.manifest,
    inputs(graphs.files.train_weak),
    inputs(graphs.files.optimizer_weak),
  );
}

describe('checkTrainingGraphs (the page refuses training graphs it cannot use)', function () {
  this.timeout(300_000);
  it("accepts a set's own graphs; refuses another width's, naming a weight and both shapes", async () => {
    const own = await tinyArtifactSet('3d_unet_small', 0.0625, 16, { size: 64 });
    const other = await tinyArtifactSet('3d_unet_small', 0.125, 16, { size: 64 });
    check(own, own);
    expect(() => check(own, other)).to.throw(
      /^dropped set: these training graphs belong to another model than model\.onnx \(\d+ differences\):\n {2}encoder1\.0\.conv\.unit0\.conv\.weight is \[2,3,3,3,3\] in the training graphs, \[1,3,3,3,3\] in model\.onnx/,
    );
  });
  it("refuses a UniFormer set's own graphs: its ImageNet head is in no model.onnx, so no complete checkpoint could be written", async () => {
    const uniformer = await tinyArtifactSet('uniformer_small', 0.0625, 4, { size: 64, backend: 'webgpu' });
    expect(uniformer.manifest.params.some((p) => p.kind === 'unused')).to.equal(true);
    expect(() => check(uniformer, uniformer)).to.throw(
      /^dropped set: uniformer_small has 2 parameters in its checkpoint that no graph reads \(.*head.*\), which model\.onnx does not hold: fine-tune it with ort-train/,
    );
  });
});
