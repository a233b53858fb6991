import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArtifactSet, type ArtifactSet } from '../../src/artifacts/build.js';
import { readCheckpoint } from '../../src/artifacts/checkpoint.js';
import { GRAPH_FILES, type GraphKey } from '../../src/artifacts/manifest.js';
import { assertGraphOk } from '../../src/onnx/check.js';
import { numel } from '../../src/onnx/ir.js';
import { createSession, tensor, type Feeds } from '../../src/onnx/runtime.js';
import { decodeGraph } from '../../src/onnx/serialize.js';
import { Rng } from '../../src/util/rng.js';

// Tiny sets (width 1/8) of every encoder: small enough to load and step every graph in a test.
// The two optimizer graphs differ only in constants and take seconds to load, so optimizer_ssl is
// loaded and stepped for one model of each family.
const TINY = [
  { encoder: '3d_unet', frames: 16, size: 16, sslOptimizer: false },
  { encoder: '3d_unet_small', frames: 16, size: 16, sslOptimizer: true },
  { encoder: 'si_resnet34_unet', frames: 4, size: 24, tile: 32, sslOptimizer: false },
  { encoder: 'si_resnet18_unet', frames: 9, size: 24, tile: 32, sslOptimizer: true },
];

const finite = (a: ArrayLike<number>) => Array.from(a).every(Number.isFinite);

function batch(set: ArtifactSet, n: number, seed: number) {
  const { frames: T, size: S } = set.manifest.model;
  const rng = new Rng(seed);
  return {
    frames: tensor(
      'uint8',
      Uint8Array.from({ length: n * T * S * S * 3 }, () => rng.int(0, 255)),
      [n, T, S, S, 3],
    ),
    keep: tensor(
      'float32',
      Float32Array.from({ length: n * T }, (_, i) => (i % 3 === 0 ? 0 : 1)),
      [n, T],
    ),
    trace_mask: tensor(
      'float32',
      Float32Array.from({ length: n * S * S }, (_, i) =>
        i % S > S / 3 && i % (S * S) > (S * S) / 4 ? 1 : 0,
      ),
      [n, S, S],
    ),
    trace_index: tensor(
      'int64',
      BigInt64Array.from({ length: n }, (_, i) => BigInt((3 * i + 1) % T)),
      [n],
    ),
  };
}

describe('artifact sets: every encoder at a tiny size (build, load at level all, run one step)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'artifacts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const tiny of TINY) {
    it(`${tiny.encoder}: graphs check and load at level all; model, train_ssl, train_weak, eval and optimizer steps run; the 3D SSL loss reconstructs the clean clip from the masked one`, async () => {
      const { sslOptimizer, ...opts } = tiny;
      const set = await buildArtifactSet({
        ...opts,
        period: 1,
        widthMult: 0.125,
        seed: 1,
        out: join(dir, tiny.encoder),
      });
      const sessions = {} as Record<GraphKey, Awaited<ReturnType<typeof createSession>>>;
      for (const key of Object.keys(GRAPH_FILES) as GraphKey[]) {
        const bytes = readFileSync(set.files[key]);
        assertGraphOk(decodeGraph(bytes));
        if (key !== 'optimizer_ssl' || sslOptimizer)
          sessions[key] = await createSession(bytes, { optimization: 'all', threads: 2 });
      }
      const { manifest } = set;
      const state = readCheckpoint(set.files.checkpoint, manifest);
      const params: Feeds = Object.fromEntries(
        manifest.params.map((p) => [p.name, tensor('float32', state.params.get(p.name)!.slice(), p.shape)]),
      );
      const { frames, keep, trace_mask, trace_index } = batch(set, 2, 5);
      const { frames: T, size: S } = manifest.model;

      const logits = (await sessions.model.run({ frames })).logits;
      expect(logits.dims).to.deep.equal([2, T, S, S]);
      expect(finite(logits.data as Float32Array)).to.equal(true);

      const ssl = await sessions.train_ssl.run({ ...params, frames, keep });
      expect(Number(ssl.loss.data[0])).to.be.greaterThan(0).and.satisfy(Number.isFinite);
      expect(ssl.mse.data[0]).to.equal(ssl.loss.data[0]);
      if (manifest.model.family === '3d') {
        // Instance norm only, so model.onnx computes what the train graph does: its loss must be the
        // MSE of the model's output on the MASKED clip (keep = 0 frames raw black) against channel 0
        // of the CLEAN normalised clip, over every frame.
        const raw = frames.data as Uint8Array;
        const masked = raw.map((v, i) => ((keep.data as Float32Array)[Math.floor(i / (S * S * 3))] ? v : 0));
        const out = (await sessions.model.run({ frames: tensor('uint8', masked, [2, T, S, S, 3]) })).logits
          .data as Float32Array;
        const [mean, std] = [manifest.model.mean[0], manifest.model.std[0]];
        let sum = 0;
        for (let i = 0; i < out.length; i++) sum += (out[i] - (raw[3 * i] / 255 - mean) / std) ** 2;
        expect(Number(ssl.loss.data[0])).to.be.closeTo(sum / out.length, 1e-5 * (sum / out.length));
      }
      const zero = tensor('float32', Float32Array.of(0), []);
      const others = { others_intersection: zero, others_cardinality: zero, others_positives: zero };
      const weak = await sessions.train_weak.run({ ...params, frames, trace_mask, trace_index, ...others });
      const [loss, tp, fn] = [weak.loss, weak.tp, weak.fn].map((t) => Number(t.data[0]));
      expect(loss).to.be.within(0, 1);
      expect(tp + fn).to.equal((trace_mask.data as Float32Array).reduce((a, v) => a + v, 0));
      for (const p of manifest.params) {
        if (p.kind === 'param')
          expect(finite(weak[`${p.name}.grad`].data as Float32Array), p.name).to.equal(true);
        else expect(ssl[`${p.name}.new`].dims, p.name).to.deep.equal(p.shape);
      }
      // The graphs must not write into the caller's buffers (running statistics included).
      for (const p of manifest.params)
        expect(params[p.name].data).to.deep.equal(state.params.get(p.name), p.name);

      // Evaluation graphs run BatchNorm on running statistics, as model.onnx does: same traced logits.
      const evalWeak = await sessions.eval_weak.run({ ...params, frames, trace_mask, trace_index });
      const traced = evalWeak.logits_traced.data as Float32Array;
      const all = logits.data as Float32Array;
      for (const n of [0, 1]) {
        const t = Number(trace_index.data[n]);
        for (const i of [0, 7, S * S - 1])
          expect(traced[n * S * S + i]).to.be.closeTo(all[(n * T + t) * S * S + i], 1e-4);
      }
      expect(Number(evalWeak.positives.data[0])).to.equal(tp + fn);
      // Without BatchNorm, training and evaluation graphs compute the same loss (pooled Dice, no others).
      if (manifest.model.family === '3d') expect(Number(evalWeak.loss.data[0])).to.be.closeTo(loss, 1e-6);
      expect(Number((await sessions.eval_ssl.run({ ...params, frames, keep })).loss.data[0])).to.satisfy(
        Number.isFinite,
      );

      const trainable = manifest.params.filter((p) => p.kind === 'param');
      for (const task of sslOptimizer ? (['ssl', 'weak'] as const) : (['weak'] as const)) {
        const feeds: Feeds = {
          lr: tensor('float32', Float32Array.of(3e-4), []),
          step: tensor('float32', Float32Array.of(1), []),
        };
        for (const p of trainable) {
          feeds[p.name] = params[p.name];
          feeds[`${p.name}.grad`] = (task === 'ssl' ? ssl : weak)[`${p.name}.grad`];
          for (const s of manifest[task].stateSuffixes)
            feeds[`${p.name}.${s}`] = tensor('float32', new Float32Array(numel(p.shape)), p.shape);
        }
        const stepped = await sessions[`optimizer_${task}`].run(feeds);
        const w = trainable.find((p) => p.name.endsWith('.weight') && numel(p.shape) > 1)!;
        const moved = (stepped[`${w.name}.new`].data as Float32Array).some(
          (v, i) => v !== (params[w.name].data as Float32Array)[i],
        );
        expect(moved, `${task} step moves ${w.name}`).to.equal(true);
      }
    });
  }
});
