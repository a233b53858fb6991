// Checkpoints of upstream's UniFormer-S U-Net written by real PyTorch (test/fixtures/uniformer,
// tools/torch-baseline/uniformer_reference.py): a width-1/16 module with non-trivial BatchNorm
// statistics as a Lightning-style file (state_dict, epoch, global_step only) and as a plain state
// dict, and UniFormer ImageNet-format encoder files ({'model': state_dict}) of two sizes.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, readWeightsFile } from '../../src/artifacts/checkpoint-file.js';
import { importCheckpoint, weightsLayout } from '../../src/artifacts/import.js';
import { readSafetensors } from '../../src/artifacts/safetensors.js';
import { createSession, tensor } from '../../src/onnx/runtime.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const FIXTURES = 'test/fixtures/uniformer';
const REF = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as {
  width_mult: number;
  frames: number;
  size: number;
  max_abs_logit: number;
  parameters: number;
};
const ARCH = { encoder: 'uniformer_small', widthMult: REF.width_mult } as const;
const tmp = tempDirs('uniformer-ckpt');

/** The fixtures' clip: byte i = top byte of (i * 2654435761) mod 2^32 (export_unet3d.fixed_clip). */
const fixedClip = (T: number, S: number) =>
  Uint8Array.from({ length: T * S * S * 3 }, (_, i) => Math.imul(i, 2654435761) >>> 24);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('UniFormer-S U-Net checkpoints written by PyTorch 1.13', function () {
  this.timeout(300_000);

  for (const [label, file, format, epoch, step] of [
    [
      'Lightning-style file with only state_dict, epoch and global_step',
      'lightning.ckpt',
      'lightning',
      3,
      120,
    ],
    ['plain state dict', 'plain.pt', 'torch', 0, 0],
  ] as const)
    it(`import-checkpoint (${label}): identified from the weights; model.onnx gives PyTorch's logits to 1e-4 relative; checkpoint.safetensors has the state dict's names, shapes and dtypes, head included`, async () => {
      const out = join(tmp('import'), 'set');
      const r = await importCheckpoint({ checkpoint: join(FIXTURES, file), out, size: REF.size });
      expect(r.architecture).to.deep.equal({ ...ARCH, identified: true });
      expect([r.format, r.epoch, r.step]).to.deep.equal([format, epoch, step]);
      const m = r.set.manifest.model;
      expect([m.frames, m.paramCount]).to.deep.equal([16, REF.parameters]); // super-image default: T = 16
      // The fixture's logits are for T = 4: the same weights at that clip length.
      const four = await importCheckpoint({
        checkpoint: join(FIXTURES, file),
        out: join(tmp('t4'), 'set'),
        frames: REF.frames,
      });
      const session = await createSession(four.set.files.model, { threads: 2 });
      const { frames: T, size: S } = REF;
      const got = (await session.run({ frames: tensor('uint8', fixedClip(T, S), [1, T, S, S, 3]) })).logits
        .data as Float32Array;
      await session.release();
      const want = new Float32Array(readFileSync(join(FIXTURES, 'logits.f32')).buffer.slice(0));
      expect(got.length).to.equal(want.length);
      const diff = got.reduce((mx, x, i) => Math.max(mx, Math.abs(x - want[i])), 0);
      expect(diff / REF.max_abs_logit).to.be.below(1e-4);
      // What load_state_dict(strict=True) checks: the same keys, shapes and dtypes as PyTorch's own
      // state dict (num_batches_tracked as int64 scalars), and equal values for the weights.
      const saved = readSafetensors(r.set.files.checkpoint).tensors;
      const source = (await readWeightsFile(join(FIXTURES, 'plain.pt'))).content.tensors;
      expect([...saved.keys()].sort()).to.deep.equal([...source.keys()].sort());
      for (const [k, t] of source) {
        expect(saved.get(k)!.shape, k).to.deep.equal(t.shape);
        expect(saved.get(k)!.dtype, k).to.equal(t.dtype);
        if (!k.endsWith('num_batches_tracked')) expect(saved.get(k)!.data, k).to.deep.equal(t.data);
      }
      expect([...saved.keys()].filter((k) => k.endsWith('num_batches_tracked'))).to.have.length(25);
      expect(saved.get('encoder.head.weight')!.shape).to.deep.equal([1000, 32]);
    });

  it('an ImageNet-format encoder file ({"model": ...}) loads into the encoder only, head included, when asked; as a whole model it is refused', async () => {
    const layout = weightsLayout(ARCH);
    const path = join(FIXTURES, 'imagenet-small.pth');
    const state = await loadCheckpoint(path, layout, { encoderOnly: true });
    expect(state.format).to.equal('encoder');
    const encoderNames = layout.params.filter((p) => p.name.startsWith('encoder.')).map((p) => p.name);
    expect([...state.params.keys()].sort()).to.deep.equal(encoderNames.sort());
    const raw = (await readWeightsFile(path)).content.tensors;
    expect(state.params.get('encoder.head.bias')).to.deep.equal(raw.get('head.bias')!.data);
    expect((await failure(loadCheckpoint(path, layout))).message).to.match(
      /holds an encoder's weights only .* --pretrained_type encoder/,
    );
  });

  it('one error names each mismatch: uniformer_base ImageNet weights, a 3D U-Net and a ResNet U-Net given as uniformer_small', async () => {
    const layout = weightsLayout(ARCH);
    const base = await failure(
      loadCheckpoint(join(FIXTURES, 'imagenet-base.pth'), layout, { encoderOnly: true }),
    );
    expect(base.message).to.match(
      /the weights do not fit uniformer_small \(width 0\.0625\): 0 missing, \d+ unexpected/,
    );
    expect(base.message).to.include(
      'They are a UniFormer of another size: blocks per stage [5, 8, 20, 7] (uniformer_base), where uniformer_small has [3, 4, 8, 3].',
    );
    const unet = await failure(
      importCheckpoint({
        checkpoint: 'test/fixtures/torch-checkpoints/lightning.ckpt',
        encoder: 'uniformer_small',
        out: join(tmp('bad'), 'set'),
      }),
    );
    expect(unet.message).to.match(
      /They are a 3d_unet_small checkpoint \(width 0\.125\), a different architecture/,
    );
    const r18 = await tinyArtifactSet('si_resnet18_unet', 0.0625, 4);
    const resnet = await failure(
      importCheckpoint({
        checkpoint: r18.files.checkpoint,
        encoder: 'uniformer_small',
        out: join(tmp('r18'), 'set'),
      }),
    );
    expect(resnet.message).to.match(
      /They are a si_resnet18_unet checkpoint \(width 0\.0625\), a different architecture/,
    );
  });
});
