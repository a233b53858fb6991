import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArtifactSet, type ArtifactSet } from '../../src/artifacts/build.js';
import { paramsFromCheckpoint, readCheckpoint, writeCheckpoint } from '../../src/artifacts/checkpoint.js';
import { bakeWeightsIntoModel, loadArtifactSet } from '../../src/artifacts/load.js';
import { encodeSafetensors, readSafetensors } from '../../src/artifacts/safetensors.js';
import { main } from '../../src/cli/main.js';
import { numel } from '../../src/onnx/ir.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { decodeGraph } from '../../src/onnx/serialize.js';

describe('checkpoint.safetensors, manifest, bakeWeightsIntoModel, build-graph CLI', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  let set3d: ArtifactSet;
  let setSi: ArtifactSet;
  before(async () => {
    set3d = await buildArtifactSet({
      encoder: '3d_unet_small',
      frames: 16,
      period: 1,
      size: 16,
      widthMult: 0.125,
      out: join(dir, '3d'),
    });
    setSi = await buildArtifactSet({
      encoder: 'si_resnet18_unet',
      frames: 4,
      period: 2,
      size: 24,
      tile: 32,
      widthMult: 0.125,
      out: join(dir, 'si'),
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a checkpoint written by build-graph reloads and re-writes to identical bytes', () => {
    for (const set of [set3d, setSi]) {
      const bytes = readFileSync(set.files.checkpoint);
      expect(Buffer.from(encodeSafetensors(readSafetensors(set.files.checkpoint))).equals(bytes)).to.equal(
        true,
      );
    }
  });

  it('stores upstream names and layouts: Conv3d [Cout, Cin, kH, kW, kT] vs the graph [Cout, Cin, kT, kH, kW]', () => {
    const ckpt = readSafetensors(set3d.files.checkpoint).tensors.get('encoder2.0.conv.unit0.conv.weight')!;
    const graphInit = decodeGraph(readFileSync(set3d.files.model)).initializers.get(
      'encoder2.0.conv.unit0.conv.weight',
    )!;
    expect(ckpt.shape).to.deep.equal([4, 2, 3, 3, 3]);
    const up = ckpt.data as Float32Array;
    const gr = graphInit.data as Float32Array;
    const at = (o: number, i: number, a: number, b: number, c: number) =>
      (((o * 2 + i) * 3 + a) * 3 + b) * 3 + c;
    for (const [o, i, t, h, w] of [
      [0, 0, 0, 1, 2],
      [3, 1, 2, 0, 1],
      [1, 0, 1, 2, 0],
    ])
      expect(gr[at(o, i, t, h, w)]).to.equal(up[at(o, i, h, w, t)]);
    expect(set3d.manifest.params.find((p) => p.name === 'upconv2.conv.weight')!.permutation).to.deep.equal([
      0, 1, 4, 2, 3,
    ]);
  });

  it('round-trips parameters, optimizer state, step, epoch and metadata; BatchNorm counters for PyTorch', () => {
    const m = setSi.manifest;
    const state = readCheckpoint(setSi.files.checkpoint, m);
    expect(state.step).to.equal(0);
    const optimizer = new Map<string, Float32Array>();
    for (const p of m.params.filter((q) => q.kind === 'param'))
      for (const s of m.weak.stateSuffixes)
        optimizer.set(
          `${p.name}.${s}`,
          Float32Array.from({ length: numel(p.shape) }, (_, i) => i * 1e-3),
        );
    const path = join(dir, 'resume.safetensors');
    writeCheckpoint(path, m, {
      params: state.params,
      optimizer,
      step: 17,
      epoch: 2,
      metadata: { best_val_dsc: '0.91' },
    });
    const back = readCheckpoint(path, m);
    expect([back.step, back.epoch, back.metadata.best_val_dsc]).to.deep.equal([17, 2, '0.91']);
    expect(back.optimizer.size).to.equal(optimizer.size);
    expect(back.optimizer.get('decoder.blocks.1.conv1.0.weight.exp_avg_sq')).to.deep.equal(
      optimizer.get('decoder.blocks.1.conv1.0.weight.exp_avg_sq'),
    );
    expect(back.params.get('encoder.layer2.0.bn1.running_var')).to.deep.equal(
      state.params.get('encoder.layer2.0.bn1.running_var'),
    );
    const raw = readSafetensors(path).tensors.get('encoder.layer2.0.bn1.num_batches_tracked')!;
    expect([raw.dtype, raw.data[0]]).to.deep.equal(['I64', 17n]);
  });

  it('accepts a Lightning "model." prefix; rejects missing, unknown and mis-shaped tensors', () => {
    const m = set3d.manifest;
    const content = readSafetensors(set3d.files.checkpoint);
    const prefixed = {
      tensors: new Map([...content.tensors].map(([k, v]) => [`model.${k}`, v])),
      metadata: {},
    };
    expect(paramsFromCheckpoint(m, prefixed).params.size).to.equal(m.params.length);
    const missing = {
      tensors: new Map([...content.tensors].filter(([k]) => k !== 'decoder1.residual.bias')),
      metadata: {},
    };
    expect(() => paramsFromCheckpoint(m, missing)).to.throw(
      /1 missing.*\nmissing:\n {2}decoder1.residual.bias \[1\]/s,
    );
    const extra = {
      tensors: new Map([...content.tensors, ['head.weight', content.tensors.get('decoder1.residual.bias')!]]),
      metadata: {},
    };
    expect(() => paramsFromCheckpoint(m, extra)).to.throw(
      /do not fit 3d_unet_small.*\nunexpected:\n {2}head.weight \[1\]/s,
    );
    expect(() => paramsFromCheckpoint(setSi.manifest, content)).to.throw(/missing/);
  });

  it('bakeWeightsIntoModel writes given weights into model.onnx (final conv bias + 1 shifts every logit by 1)', async () => {
    const m = set3d.manifest;
    const state = readCheckpoint(set3d.files.checkpoint, m);
    const frames = tensor(
      'uint8',
      Uint8Array.from({ length: 16 * 16 * 16 * 3 }, (_, i) => (i * 37) % 256),
      [1, 16, 16, 16, 3],
    );
    const before = (await (await createSession(set3d.files.model)).run({ frames })).logits
      .data as Float32Array;
    const shifted = new Map(state.params);
    shifted.set(
      'decoder1.conv.unit1.conv.bias',
      state.params.get('decoder1.conv.unit1.conv.bias')!.map((v) => v + 1),
    );
    const out = bakeWeightsIntoModel(set3d.dir, shifted, join(dir, 'best.onnx'));
    const after = (await (await createSession(out)).run({ frames })).logits.data as Float32Array;
    for (const i of [0, 100, after.length - 1]) expect(after[i] - before[i]).to.be.closeTo(1, 1e-4);
    expect(decodeGraph(readFileSync(out)).metadata.encoder).to.equal('3d_unet_small');
  });

  it('the manifest describes graphs, parameters and the build; model.onnx carries metadata', () => {
    const set = loadArtifactSet(setSi.dir);
    const g = set.manifest.graphs;
    expect(g.model.inputs).to.deep.equal([{ name: 'frames', dtype: 'uint8', shape: ['N', 4, 24, 24, 3] }]);
    expect(g.model.outputs).to.deep.equal([{ name: 'logits', dtype: 'float32', shape: ['N', 4, 24, 24] }]);
    const weakInputs = [
      'frames',
      'trace_mask',
      'trace_index',
      'others_intersection',
      'others_cardinality',
      'others_positives',
    ];
    expect(g.train_weak.inputs.map((i) => i.name).slice(0, 6)).to.deep.equal(weakInputs);
    expect(g.train_weak.outputs.map((o) => o.name)).to.include.members([
      'loss',
      'tp',
      'fp',
      'fn',
      'encoder.conv1.weight.grad',
      'encoder.bn1.running_var.new',
    ]);
    expect(g.eval_weak.inputs.map((i) => i.name).slice(0, 3)).to.deep.equal(weakInputs.slice(0, 3));
    expect(g.eval_weak.outputs.map((o) => o.name)).to.deep.equal([
      'loss',
      'tp',
      'fp',
      'fn',
      'intersection',
      'cardinality',
      'positives',
      'logits_traced',
    ]);
    expect(g.train_ssl.inputs.find((i) => i.name === 'keep')).to.deep.equal({
      name: 'keep',
      dtype: 'float32',
      shape: ['N', 4],
    });
    expect(set.manifest.model).to.include({
      encoder: 'si_resnet18_unet',
      family: 'superimage',
      tile: 32,
      period: 2,
    });
    const meta = decodeGraph(readFileSync(set.files.model)).metadata;
    expect(meta).to.include({
      encoder: 'si_resnet18_unet',
      frames: '4',
      period: '2',
      size: '24',
      width_mult: '0.125',
      tile: '32',
    });
    expect(JSON.parse(meta.mean)).to.deep.equal(set.manifest.model.mean);
    expect(() => loadArtifactSet(join(dir, 'nowhere'))).to.throw(/not an artifact set/);
  });

  it('`unilvseg build-graph` writes a set and records the command; bad sizes fail with a clear message', async () => {
    const out = join(dir, 'cli');
    await main([
      'node',
      'unilvseg',
      'build-graph',
      '--encoder',
      '3d_unet_small',
      '--frames',
      '16',
      '--size',
      '16',
      '--width_mult',
      '0.0625',
      '--seed',
      '7',
      '--out',
      out,
    ]);
    const set = loadArtifactSet(out);
    expect(set.manifest.build.command).to.match(
      /^unilvseg build-graph --encoder 3d_unet_small --frames 16 --period 1 --size 16 --width_mult 0.0625 .*--seed 7/,
    );
    expect(set.manifest.seed).to.equal(7);
    expect(existsSync(join(out, 'optimizer_weak.onnx'))).to.equal(true);
    let message = '';
    try {
      await main([
        'node',
        'unilvseg',
        'build-graph',
        '--encoder',
        '3d_unet',
        '--frames',
        '20',
        '--out',
        join(dir, 'bad'),
      ]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/divisible by 16/);
  });
});
