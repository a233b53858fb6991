// UniFormer-S U-Net (graphs/uniformer-unet.ts) against upstream's module: its state-dict list
// (tools/torch-baseline/uniformer_unet.py --state-dict) and PyTorch's logits for a narrow copy with
// non-trivial BatchNorm statistics (test/fixtures/uniformer, tools/torch-baseline/uniformer_reference.py).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialValues, parameterCount } from '../../graphs/layers.js';
import { createModel, modelParamSpecs } from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { inferenceGraph } from '../../graphs/tasks.js';
import { loadCheckpoint } from '../../src/artifacts/checkpoint-file.js';
import { weightsLayout } from '../../src/artifacts/import.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { checkSuperImageGradients } from '../helpers/model-gradcheck.js';

const FIXTURES = 'test/fixtures/uniformer';
const uniformer = (frames = 16, widthMult = 1, size = 112) =>
  createModel({ encoder: 'uniformer_small', frames, size, widthMult, ...ECHONET_NORMALISATION });

/** The fixtures' clip: byte i = top byte of (i * 2654435761) mod 2^32 (export_unet3d.fixed_clip). */
const fixedClip = (T: number, S: number) =>
  Uint8Array.from({ length: T * S * S * 3 }, (_, i) => Math.imul(i, 2654435761) >>> 24);

describe("UniFormer-S U-Net (upstream's UniFormerUNet('uniformer_small'))", () => {
  it('names, upstream shapes and order equal the upstream state dict (num_batches_tracked aside); 24,825,977 parameters, 24,312,977 without the unused ImageNet head', () => {
    const specs = modelParamSpecs(uniformer());
    const upstream = readFileSync('test/models/fixtures/uniformer-small-state-dict.tsv', 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#') && !l.startsWith('key\t') && !l.includes('num_batches_tracked'))
      .map((l) => l.replace('\t', ' '));
    expect(specs.map((s) => `${s.name} ${s.upstreamShape.join(',')}`)).to.deep.equal(upstream);
    expect(parameterCount(specs)).to.equal(24_825_977);
    const unused = specs.filter((s) => s.kind === 'unused').map((s) => s.name);
    expect(unused).to.deep.equal(['encoder.head.weight', 'encoder.head.bias']);
    expect(parameterCount(specs.filter((s) => s.kind !== 'unused'))).to.equal(24_312_977);
    // BatchNorm buffers: the convolutional blocks' two norms, the encoder's last, the decoder's ten.
    expect(specs.filter((s) => s.name.endsWith('.running_var'))).to.have.length(2 * 7 + 1 + 10);
  });

  it('Linear weights are [in, out] in the graph (upstream [out, in]); depthwise kernels [C, 1, k, k]', () => {
    const byName = new Map(modelParamSpecs(uniformer()).map((s) => [s.name, s]));
    const qkv = byName.get('encoder.blocks3.0.attn.qkv.weight')!;
    expect([qkv.shape, qkv.upstreamShape, qkv.permutation]).to.deep.equal([
      [320, 960],
      [960, 320],
      [1, 0],
    ]);
    expect(byName.get('encoder.blocks1.2.attn.weight')!.shape).to.deep.equal([64, 1, 5, 5]);
    expect(byName.get('encoder.blocks4.0.pos_embed.weight')!.shape).to.deep.equal([512, 1, 3, 3]);
    // The decoder's first block joins stage 3 (320 channels); block 3 has the empty skip, block 4 none.
    expect(byName.get('decoder.blocks.0.conv1.0.weight')!.shape).to.deep.equal([256, 512 + 320, 3, 3]);
    expect(byName.get('decoder.blocks.3.conv1.0.weight')!.shape).to.deep.equal([32, 64, 3, 3]);
    expect(byName.get('decoder.blocks.4.conv1.0.weight')!.shape).to.deep.equal([16, 32, 3, 3]);
  });

  it('--width_mult keeps the names and the head counts (1, 2, 5, 8), scaling the head dimension; widths that do not split into them are refused', () => {
    const full = modelParamSpecs(uniformer());
    const narrow = modelParamSpecs(uniformer(4, 0.125));
    expect(narrow.map((s) => s.name)).to.deep.equal(full.map((s) => s.name));
    const shape = (name: string) => narrow.find((s) => s.name === name)!.shape;
    expect(shape('encoder.patch_embed1.proj.weight')).to.deep.equal([8, 3, 4, 4]);
    expect(shape('encoder.blocks3.7.attn.qkv.weight')).to.deep.equal([40, 120]);
    expect(shape('encoder.head.weight')).to.deep.equal([1000, 64]);
    expect(shape('segmentation_head.0.weight')).to.deep.equal([1, 2, 3, 3]);
    expect(() => uniformer(4, 0.1)).to.throw(/stage widths 6, 13, 32, 51 do not split into 1, 2, 5, 8 heads/);
  });

  it('refuses clip lengths that are not perfect squares', () => {
    expect(() => uniformer(12)).to.throw(/perfect-square number of frames \(got 12/);
  });

  it("initialises as upstream: Linear N(0, 0.02) with zero bias, LayerNorm 1 / 0, PyTorch's conv default, smp's decoder and head", () => {
    const specs = modelParamSpecs(uniformer(4, 0.5));
    const v = initialValues(specs, 1);
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(rms(v.get('encoder.blocks3.1.mlp.fc1.weight')!)).to.be.closeTo(0.02, 0.001);
    expect(maxAbs(v.get('encoder.blocks3.1.mlp.fc1.bias')!)).to.equal(0);
    expect(Array.from(new Set(v.get('encoder.patch_embed2.norm.weight')!))).to.deep.equal([1]);
    expect(Array.from(new Set(v.get('encoder.blocks4.0.norm2.bias')!))).to.deep.equal([0]);
    // depthwise: fan_in = 1 * 5 * 5, so U(+-1/5)
    expect(maxAbs(v.get('encoder.blocks2.0.attn.weight')!)).to.be.within(0.95 / 5, 1 / 5);
    const dec = v.get('decoder.blocks.2.conv1.0.weight')!; // kaiming_uniform fan_in: (128 + 64) / 2 * 9
    expect(maxAbs(dec)).to.be.within(0.95 * Math.sqrt(6 / (96 * 9)), Math.sqrt(6 / (96 * 9)));
    expect(Array.from(v.get('segmentation_head.0.bias')!)).to.deep.equal([0]);
  });

  it('model.onnx logits of a narrow copy (width 1/16, T=4, 112x112 frames, non-trivial BatchNorm statistics) within 1e-4 of PyTorch float64; the head is in no graph', async function () {
    this.timeout(120_000);
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as {
      width_mult: number;
      frames: number;
      size: number;
      max_abs_logit: number;
    };
    const { frames: T, size: S } = ref;
    const model = uniformer(T, ref.width_mult, S);
    const state = await loadCheckpoint(
      join(FIXTURES, 'plain.pt'),
      weightsLayout({ encoder: 'uniformer_small', widthMult: ref.width_mult }),
    );
    // Running statistics as PyTorch left them, not the defaults.
    expect(state.params.get('encoder.norm.running_var')!.some((x) => Math.abs(x - 1) > 0.1)).to.equal(true);
    const graph = inferenceGraph(model, state.params, {});
    expect([...graph.initializers.keys()].filter((k) => k.startsWith('encoder.head'))).to.deep.equal([]);
    const session = await createSession(graph, { threads: 2 });
    const out = await session.run({ frames: tensor('uint8', fixedClip(T, S), [1, T, S, S, 3]) });
    const got = out.logits.data as Float32Array;
    const want = new Float32Array(readFileSync(join(FIXTURES, 'logits.f32')).buffer.slice(0));
    expect(got.length).to.equal(want.length);
    const diff = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
    expect(ref.max_abs_logit).to.be.above(1);
    expect(diff).to.be.below(1e-4);
  });

  it('whole-model gradient of a tiny UniFormer U-Net (width 1/16, 2 clips of T=4 frames of 32x32 in 32x32 tiles, BatchNorm on batch statistics): every trained tensor within 2 % of finite differences (float32)', async function () {
    this.timeout(300_000);
    const model = createModel({
      encoder: 'uniformer_small',
      frames: 4,
      size: 32,
      tile: 32,
      widthMult: 0.0625,
      ...ECHONET_NORMALISATION,
    });
    await checkSuperImageGradients(model, 11, [3e-3, 1e-3, 3e-4]);
  });
});
