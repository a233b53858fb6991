// PyTorch checkpoints written by real PyTorch (Debian's 1.13), committed under
// test/fixtures/torch-checkpoints by tools/torch-baseline/make_checkpoint_fixtures.py (its
// docstring says how to re-run it): a narrow 3d_unet_small as a Lightning .ckpt and as a plain
// torch.save(state_dict), with PyTorch's logits for a fixed clip.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { identifyArchitecture } from '../../src/artifacts/architecture.js';
import { loadCheckpoint, readWeightsFile } from '../../src/artifacts/checkpoint-file.js';
import { CheckpointMismatchError, inversePermutation, permuteArray } from '../../src/artifacts/checkpoint.js';
import { importCheckpoint, weightsLayout } from '../../src/artifacts/import.js';
import { loadArtifactSet } from '../../src/artifacts/load.js';
import { readSafetensors } from '../../src/artifacts/safetensors.js';
import { ENCODERS } from '../../graphs/models.js';
import { loadSegmentationModel } from '../../src/infer/model.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { tempDirs } from '../helpers/tmp.js';
import { stateDictListing, upstreamStateDict } from '../helpers/upstream-state-dict.js';
import { architectureSpecs } from '../../src/artifacts/architecture.js';
import { osSystemCall, pickleOps as op } from './pickle-ops.js';

const FIXTURES = 'test/fixtures/torch-checkpoints';
const LIGHTNING = join(FIXTURES, 'lightning.ckpt');
const PLAIN = join(FIXTURES, 'plain.pt');
interface Summary {
  shape: number[];
  stride: number[];
  offset: number;
  first: number[];
  sum: number;
}
const REF = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as {
  encoder: string;
  width_mult: number;
  frames: number;
  size: number;
  checked_tensors: Record<string, Summary>;
};
const ARCH = { encoder: '3d_unet_small', widthMult: 0.125 } as const;
const tmp = tempDirs('torch-ckpt');

/** The fixtures' clip: byte i = top byte of (i * 2654435761) mod 2^32 (export_unet3d.fixed_clip). */
function fixedClip(T: number, S: number): Uint8Array {
  return Uint8Array.from({ length: T * S * S * 3 }, (_, i) => Math.imul(i, 2654435761) >>> 24);
}

async function runModel(file: string, clip: Uint8Array, T: number, S: number): Promise<Float32Array> {
  const session = await createSession(file, { threads: 1 });
  try {
    return (await session.run({ frames: tensor('uint8', clip, [1, T, S, S, 3]) })).logits
      .data as Float32Array;
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

async function zipEntries(path: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  for await (const e of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const c of await zip.openReadStreamPromise(e)) chunks.push(c as Buffer);
    out.set(e.fileName, Buffer.concat(chunks));
  }
  zip.close();
  return out;
}

async function writeZip(path: string, entries: Map<string, Uint8Array>, zip64 = false): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries)
    zip.addBuffer(Buffer.from(data), name, { compress: false, forceZip64Format: zip64 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  writeFileSync(path, Buffer.concat(chunks));
}

/** plain.pt with its pickle replaced; `wrap` gets the original pickle's body (between PROTO and STOP). */
async function plainWithPickle(name: string, wrap: (body: Uint8Array) => Uint8Array): Promise<string> {
  const entries = await zipEntries(PLAIN);
  const pkl = entries.get('plain/data.pkl')!;
  entries.set('plain/data.pkl', Buffer.from(wrap(pkl.subarray(2, pkl.length - 1))));
  const path = join(tmp('zip'), name);
  await writeZip(path, entries);
  return path;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('PyTorch checkpoints: Lightning .ckpt and torch.save state dicts (fixtures by PyTorch 1.13)', function () {
  this.timeout(120_000);

  it('rebuilds tensors stored with strides and storage offsets as PyTorch reads them', async () => {
    const w = await readWeightsFile(PLAIN);
    expect(w.format).to.equal('torch');
    const unusual = Object.entries(REF.checked_tensors).filter(([k]) => !k.includes('exp_avg'));
    expect(unusual.map(([, s]) => [s.offset, s.stride.join()])).to.deep.include.members([
      [0, '1,54,18,6,2'], // permuted kernel
      [3, '1'], // shared storage, offset 3
      [21, '1'], // shared storage, offset 21
      [432, '864,27,9,3,1'], // every second slice of a larger storage
    ]);
    for (const [name, s] of unusual) {
      const t = w.content.tensors.get(name)!;
      expect(t.shape, name).to.deep.equal(s.shape);
      expect(Array.from((t.data as Float32Array).slice(0, 6)), name).to.deep.equal(s.first.map(Math.fround));
      const sum = Array.from(t.data as Float32Array).reduce((a, x) => a + x, 0);
      expect(sum, name).to.be.closeTo(s.sum, 1e-6 * Math.max(1, Math.abs(s.sum)));
    }
  });

  it('reads zip64 entry records (as checkpoints past 4 GB have them) to the same tensors', async () => {
    const path = join(tmp('zip64'), 'zip64.pt');
    await writeZip(path, await zipEntries(PLAIN), true);
    const plain = await readWeightsFile(PLAIN);
    const wide = await readWeightsFile(path);
    expect([...wide.content.tensors.keys()]).to.deep.equal([...plain.content.tensors.keys()]);
    for (const [k, t] of plain.content.tensors)
      expect(wide.content.tensors.get(k)!.data, k).to.deep.equal(t.data);
  });

  it('reads storages written big-endian (byteorder "big") to the same values', async () => {
    const entries = await zipEntries(PLAIN);
    for (const [name, data] of entries)
      if (/^plain\/data\/\d+$/.test(name)) entries.set(name, Buffer.from(data).swap32()); // all float32
    entries.set('plain/byteorder', Buffer.from('big'));
    const path = join(tmp('big'), 'big.pt');
    await writeZip(path, entries);
    const plain = await readWeightsFile(PLAIN);
    const big = await readWeightsFile(path);
    for (const [k, t] of plain.content.tensors)
      expect(big.content.tensors.get(k)!.data, k).to.deep.equal(t.data);
    const kernel = big.content.tensors.get('upconv5.conv.weight')!.data as Float32Array;
    expect(Array.from(kernel.slice(0, 6))).to.deep.equal(
      REF.checked_tensors['upconv5.conv.weight'].first.map(Math.fround),
    );
  });

  it('converts float16, bfloat16 and float64 to float32 (with a note), keeps int64', async () => {
    const w = await readWeightsFile(join(FIXTURES, 'dtypes.pt'));
    const want = JSON.parse(readFileSync(join(FIXTURES, 'dtypes.json'), 'utf8')) as Record<
      string,
      { shape: number[]; values: number[] }
    >;
    for (const [name, { shape, values }] of Object.entries(want)) {
      const t = w.content.tensors.get(name)!;
      expect(t.shape, name).to.deep.equal(shape);
      expect(t.dtype, name).to.equal(name === 'long' ? 'I64' : 'F32');
      expect(
        Array.from(t.data as ArrayLike<number>, (x) => Number(x)),
        name,
      ).to.deep.equal(values.map(Math.fround));
    }
    expect(w.notes).to.have.members([
      '1 float16 tensor converted to float32',
      '1 bfloat16 tensor converted to float32',
      '1 float64 tensor converted to float32',
    ]);
  });

  it("upstream's state-dict listing (test/models/fixtures) narrowed to the fixtures' width is the state dict PyTorch wrote: keys, order and shapes (the listing the page's checkpoint.safetensors is checked against)", async () => {
    for (const [file, prefix] of [
      [LIGHTNING, 'model.'],
      [PLAIN, ''],
    ] as const) {
      const w = await readWeightsFile(file);
      expect(stateDictListing(w.content.tensors, prefix), file).to.deep.equal(
        upstreamStateDict('3d_unet_small', REF.width_mult),
      );
    }
    // At full width the narrowing changes nothing; at another width the listing differs.
    expect(upstreamStateDict('3d_unet_small', 1)).to.not.deep.equal(
      upstreamStateDict('3d_unet_small', 0.125),
    );
  });

  it('a Lightning .ckpt and the plain state dict give the same weights; Lightning step, epoch and optimizer state come along', async () => {
    const layout = weightsLayout(ARCH);
    const lightning = await loadCheckpoint(LIGHTNING, layout, { optimizer: true });
    const plain = await loadCheckpoint(PLAIN, layout);
    expect(lightning.format).to.equal('lightning');
    expect([...lightning.params.keys()]).to.deep.equal(layout.params.map((p) => p.name));
    for (const [k, v] of plain.params) expect(lightning.params.get(k), k).to.deep.equal(v);
    expect([lightning.step, lightning.epoch]).to.deep.equal([2, 0]);
    expect(lightning.ignoredGlobals).to.deep.equal([
      'collections.Counter',
      'pytorch_lightning.utilities.parsing.AttributeDict',
    ]);
    // Lightning keys optimizer state by parameter position; ours is by name, in graph layout.
    expect(lightning.optimizer.size).to.equal(3 * layout.params.filter((p) => p.kind === 'param').length);
    for (const key of ['encoder1.0.conv.unit0.conv.weight.exp_avg', 'upconv2.adn.A.weight.max_exp_avg_sq']) {
      const p = layout.params.find((q) => key.startsWith(q.name + '.'))!;
      const upstream = permuteArray(
        lightning.optimizer.get(key)!,
        p.shape,
        inversePermutation(p.permutation),
      );
      expect(Array.from(upstream.slice(0, 6)), key).to.deep.equal(
        REF.checked_tensors[key].first.map(Math.fround),
      );
    }
    expect(plain.optimizer.size).to.equal(0);
  });

  for (const [label, file] of [
    ['Lightning .ckpt', LIGHTNING],
    ['plain state dict', PLAIN],
  ]) {
    it(`import-checkpoint (${label}): model.onnx reproduces PyTorch's logits to 1e-4; checkpoint.safetensors holds the upstream tensors`, async () => {
      const out = join(tmp('import'), 'set');
      const r = await importCheckpoint({ checkpoint: file, out, frames: REF.frames, size: REF.size });
      expect(r.architecture).to.deep.equal({ ...ARCH, identified: true });
      const want = new Float32Array(readFileSync(join(FIXTURES, 'logits.f32')).buffer.slice(0));
      const got = await runModel(r.set.files.model, fixedClip(REF.frames, REF.size), REF.frames, REF.size);
      expect(got.length).to.equal(want.length);
      expect(maxAbsDiff(got, want)).to.be.below(1e-4);
      // checkpoint.safetensors: upstream names and layouts, so PyTorch's load_state_dict takes it
      const saved = readSafetensors(r.set.files.checkpoint);
      const source = await readWeightsFile(PLAIN);
      for (const [k, t] of source.content.tensors) {
        expect(saved.tensors.get(k)!.shape, k).to.deep.equal(t.shape);
        expect(saved.tensors.get(k)!.data, k).to.deep.equal(t.data);
      }
      expect(saved.metadata.imported_from).to.equal(file.split('/').pop());
    });
  }

  it('predict/segment-video --checkpoint: a .ckpt without artifact set is imported on the fly; with --artifacts it maps onto that set', async () => {
    const set = (await importCheckpoint({ checkpoint: PLAIN, out: join(tmp('set112'), 'set'), frames: 16 }))
      .set;
    const clip = fixedClip(16, 112);
    const viaSet = await loadSegmentationModel({ checkpoint: LIGHTNING, artifacts: set.dir, threads: 1 });
    const onTheFly = await loadSegmentationModel({ checkpoint: LIGHTNING, frames: 16, threads: 1 });
    try {
      expect([onTheFly.encoder, onTheFly.frames, onTheFly.period, onTheFly.size]).to.deep.equal([
        '3d_unet_small',
        16,
        1,
        112,
      ]);
      expect(onTheFly.describe).to.match(
        /lightning checkpoint .* imported on the fly as 3d_unet_small \(width 0.125/,
      );
      const want = await runModel(set.files.model, clip, 16, 112);
      expect(await viaSet.run(clip, 1)).to.deep.equal(want);
      expect(await onTheFly.run(clip, 1)).to.deep.equal(want);
    } finally {
      await viaSet.release();
      await onTheFly.release();
    }
  });

  it('a pickle naming os.system (outside the state dict) runs nothing: the import succeeds, the marker file never appears', async () => {
    const marker = join(tmp('marker'), 'pwned');
    const ckpt = await plainWithPickle('evil.ckpt', (body) =>
      op.pickle(
        op.emptyDict,
        op.mark,
        op.str('hyper_parameters'),
        osSystemCall(`touch ${marker}`),
        op.str('state_dict'),
        body,
        op.setitems,
      ),
    );
    const out = join(tmp('evil'), 'set');
    const r = await importCheckpoint({ checkpoint: ckpt, out, frames: 16, size: 16 });
    expect(r.ignoredGlobals).to.deep.equal(['os.system']);
    expect(existsSync(marker), 'marker').to.equal(false);
  });

  it('a state-dict entry that needs an uninterpreted global is an error naming it; nothing runs', async () => {
    const marker = join(tmp('marker2'), 'pwned');
    // the real state dict, then one entry replaced by a call of os.system
    const ckpt = await plainWithPickle('evil-entry.pt', (body) =>
      op.pickle(body, op.str('encoder1.0.conv.unit0.conv.bias'), osSystemCall(`touch ${marker}`), op.setitem),
    );
    const err = await failure(readWeightsFile(ckpt));
    expect(err.message).to.match(
      /evil-entry.pt: 1 state-dict entries are not plain tensors.*\n {2}encoder1.0.conv.unit0.conv.bias: an object built by os.system/s,
    );
    expect(existsSync(marker), 'marker').to.equal(false);
  });

  it('a truncated zip, a storage shorter than its tensor, a TorchScript archive, a legacy file and a non-checkpoint give clear errors', async () => {
    const dir = tmp('bad');
    const bytes = readFileSync(LIGHTNING);
    const truncated = join(dir, 'truncated.ckpt');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect((await failure(readWeightsFile(truncated))).message).to.match(
      /truncated.ckpt: a zip archive \(the torch.save format\) that cannot be read, truncated or damaged/,
    );

    const entries = await zipEntries(PLAIN);
    entries.set('plain/data/0', entries.get('plain/data/0')!.subarray(0, 8)); // the first conv kernel
    const short = join(dir, 'short.pt');
    await writeZip(short, entries);
    expect((await failure(readWeightsFile(short))).message).to.match(
      /short.pt: storage plain\/data\/0 holds 8 bytes, its 162 float32 elements need 648/,
    );

    const script = join(dir, 'scripted.pt');
    await writeZip(script, new Map([['m/constants.pkl', op.pickle(op.emptyTuple)]]));
    expect((await failure(readWeightsFile(script))).message).to.match(
      /a TorchScript archive \(torch.jit.save\)/,
    );

    const legacy = join(dir, 'legacy.pt');
    writeFileSync(
      legacy,
      Uint8Array.from([0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]),
    );
    expect((await failure(readWeightsFile(legacy))).message).to.match(/format before PyTorch 1.6/);

    const png = join(dir, 'picture.ckpt');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    expect((await failure(readWeightsFile(png))).message).to.match(
      /picture.ckpt is not a checkpoint in a format we read; accepted: a PyTorch Lightning checkpoint \(.ckpt\), a torch.save\(\) file of a state dict .*, or a safetensors file/,
    );
  });

  it('wrong architecture: names what the weights are, lists every difference, leaves --out untouched', async () => {
    const out = join(tmp('wrong'), 'set');
    const err = await failure(importCheckpoint({ checkpoint: PLAIN, encoder: '3d_unet', out, frames: 16 }));
    expect(err).to.be.instanceOf(CheckpointMismatchError);
    const e = err as CheckpointMismatchError;
    expect(e.identified).to.deep.equal(ARCH);
    expect(e.message).to.match(
      /plain.pt: the weights do not fit 3d_unet \(width 1\): 48 missing, 0 unexpected, 78 of another shape.*\nThey are a 3d_unet_small checkpoint \(width 0.125\), a different architecture: use --encoder 3d_unet_small --width_mult 0.125/s,
    );
    expect(e.message).to.include('\n  encoder4.5.conv.unit1.conv.weight [128,128,3,3,3]\n');
    expect(e.message).to.include('\n  upconv2.conv.bias [2] (needs [16])');
    expect(e.message.split('\n').filter((l) => l.startsWith('  '))).to.have.length(48 + 78);
    expect(existsSync(out)).to.equal(false);
    expect(readdirSync(join(out, '..'))).to.deep.equal([]);
  });

  it('lists every missing, unexpected and wrong-shape entry in one error', async () => {
    const w = await readWeightsFile(LIGHTNING);
    const t = w.content.tensors;
    t.delete('model.decoder2.residual.bias');
    t.set('model.head.weight', t.get('model.decoder1.residual.bias')!);
    const kernel = t.get('model.upconv3.conv.weight')!;
    t.set('model.upconv3.conv.weight', { ...kernel, shape: [4, 8, 3, 9, 1] });
    const entries = new Map([...t].map(([k, v]) => [k, v]));
    const dir = tmp('edited');
    const { writeSafetensors } = await import('../../src/artifacts/safetensors.js');
    writeSafetensors(join(dir, 'edited.safetensors'), entries);
    const err = await failure(loadCheckpoint(join(dir, 'edited.safetensors'), weightsLayout(ARCH)));
    expect(err.message).to.include('1 missing, 1 unexpected, 1 of another shape or type');
    expect(err.message).to.include(
      'missing:\n  decoder2.residual.bias [4]\nunexpected:\n  head.weight [1]\nanother shape or type:\n  upconv3.conv.weight [4,8,3,9,1] (needs [8,4,3,3,3])',
    );
  });

  it('identifies the encoder and width from the shapes alone', () => {
    for (const encoder of ENCODERS)
      for (const widthMult of [1, 0.25]) {
        const shapes = new Map(architectureSpecs(encoder, widthMult).map((s) => [s.name, s.upstreamShape]));
        expect(identifyArchitecture(shapes), `${encoder} x${widthMult}`).to.deep.equal({
          encoder,
          widthMult,
        });
      }
    const shapes = new Map(architectureSpecs('3d_unet', 1).map((s) => [s.name, s.upstreamShape]));
    shapes.delete('upconv2.adn.A.weight');
    expect(identifyArchitecture(shapes)).to.equal(undefined);
  });

  it('the CLI writes an artifact set that loadArtifactSet accepts and reports format, architecture and ignored globals', async () => {
    const out = join(tmp('cli'), 'set');
    const { main } = await import('../../src/cli/main.js');
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      await main([
        'node',
        'unilvseg',
        'import-checkpoint',
        '--checkpoint',
        LIGHTNING,
        '--frames',
        '16',
        '--size',
        '16',
        '--out',
        out,
      ]);
    } finally {
      console.log = log;
    }
    const set = loadArtifactSet(out);
    expect(set.manifest.model).to.include({
      encoder: '3d_unet_small',
      widthMult: 0.125,
      frames: 16,
      size: 16,
    });
    expect(set.manifest.build.command).to.match(
      /^unilvseg import-checkpoint --checkpoint .*lightning.ckpt --encoder 3d_unet_small --width_mult 0.125/,
    );
    expect(lines[0]).to.match(
      /lightning checkpoint .* \(epoch 0, step 2\) as 3d_unet_small \(width 0.125, identified from the weights/,
    );
    expect(lines.join('\n')).to.include(
      'never run: collections.Counter, pytorch_lightning.utilities.parsing.AttributeDict',
    );
  });
});
