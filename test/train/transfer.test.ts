import { expect } from 'chai';
import { readJsonl } from '../../src/util/jsonl.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, writeCheckpoint, type TrainingState } from '../../src/artifacts/index.js';
import { runTraining } from '../../src/train/loop.js';
import type { TrainOptions } from '../../src/train/options.js';
import { PhaseRunner } from '../../src/train/runner.js';
import {
  checkTransferOptions,
  lrScalesAt,
  transferredNames,
  UPSTREAM_TRANSFER,
} from '../../src/train/transfer.js';
import { Rng } from '../../src/util/rng.js';
import { tinyArtifactSet, tinyTrainOptions } from '../helpers/fixtures.js';

const T = 16;
const S = 112;
const N = 2;

function weakBatch() {
  const rng = new Rng(4);
  const trace_mask = new Float32Array(N * S * S);
  for (let n = 0; n < N; n++)
    for (let y = 30; y < 80; y++) for (let x = 40; x < 70 + n; x++) trace_mask[n * S * S + y * S + x] = 1;
  return {
    frames: Uint8Array.from({ length: N * T * S * S * 3 }, () => rng.int(0, 255)),
    trace_mask,
    trace_index: BigInt64Array.from([2n, 9n]),
    items: [0, 1].map((i) => ({ fileName: `v${i}.avi`, which: 'ed' as const, traceFrame: i })),
  };
}

/** A tiny weak run of the fixture set on the fixture data (options override the defaults). */
async function tinyWeakRun(out: string, extra: Partial<TrainOptions>) {
  return runTraining({
    ...(await tinyTrainOptions('weak')),
    out,
    batchSize: 2,
    epochs: 1,
    valCheckInterval: 1,
    numWorkers: 0,
    test: false,
    ...extra,
  });
}

const copy = (s: TrainingState): TrainingState => ({
  params: new Map([...s.params].map(([k, v]) => [k, v.slice()])),
  optimizer: new Map(),
  step: 0,
  epoch: 0,
  metadata: {},
});

describe('train/transfer: starting weak training from another run (--pretrained_type and friends)', function () {
  this.timeout(600_000);

  it('pl_full takes every weight, encoder only encoder*, --reinit_head leaves out decoder1', async () => {
    const { manifest } = await tinyArtifactSet();
    const all = manifest.params.map((p) => p.name);
    expect([...transferredNames(manifest, UPSTREAM_TRANSFER)]).to.deep.equal(all);
    const encoder = [...transferredNames(manifest, { ...UPSTREAM_TRANSFER, pretrainedType: 'encoder' })];
    expect(encoder).to.deep.equal(all.filter((n) => /^encoder[1-5]\./.test(n)));
    expect(encoder.length).to.be.above(0);
    const noHead = [...transferredNames(manifest, { ...UPSTREAM_TRANSFER, reinitHead: true })];
    expect(noHead).to.deep.equal(all.filter((n) => !n.startsWith('decoder1.')));
    expect(all.length - noHead.length).to.equal(7); // two convs and the residual conv with biases, a slope
  });

  it('refuses transfer options without --checkpoint and a warm-up with nothing fresh to train', async () => {
    const { manifest } = await tinyArtifactSet();
    expect(() =>
      checkTransferOptions(manifest, { ...UPSTREAM_TRANSFER, pretrainedType: 'encoder' }, false),
    ).to.throw(/need --checkpoint/);
    expect(() => checkTransferOptions(manifest, { ...UPSTREAM_TRANSFER, headWarmupSteps: 5 }, true)).to.throw(
      /there are none/,
    );
    expect(() =>
      checkTransferOptions(manifest, { ...UPSTREAM_TRANSFER, reinitHead: true, headWarmupSteps: 5 }, true),
    ).not.to.throw();
    expect(() =>
      checkTransferOptions(manifest, { ...UPSTREAM_TRANSFER, transferLrScale: -1 }, true),
    ).to.throw(/>= 0/);
    const t = { ...UPSTREAM_TRANSFER, transferLrScale: 0.1, headWarmupSteps: 3 };
    const scales = (step: number) => lrScalesAt(new Set(['a']), t, step)!;
    expect([scales(2)('a'), scales(2)('b'), scales(3)('a'), scales(3)('b')]).to.deep.equal([0, 1, 0.1, 1]);
    expect(lrScalesAt(new Set(['a']), UPSTREAM_TRANSFER, 0)).to.equal(undefined);
  });

  it('a step with per-parameter lr multipliers: x0 leaves weights and state alone, x0.5 is a step at lr/2', async () => {
    const set = await tinyArtifactSet();
    const runner = await PhaseRunner.open(set, 'weak', { threads: 1 });
    const init = readCheckpoint(set.files.checkpoint, set.manifest);
    const batch = weakBatch();
    const [full, half, mixed] = [copy(init), copy(init), copy(init)];
    await runner.step(full, batch, 1e-2);
    await runner.step(half, batch, 5e-3);
    const scale = (n: string) => (n.startsWith('encoder1.') ? 0 : n.startsWith('decoder') ? 0.5 : 1);
    await runner.step(mixed, batch, 1e-2, 0, scale);
    await runner.release();
    let frozen = 0;
    for (const p of set.manifest.params.filter((q) => q.kind === 'param')) {
      const got = Array.from(mixed.params.get(p.name)!);
      const s = scale(p.name);
      const want = s === 0 ? init.params.get(p.name)! : (s === 1 ? full : half).params.get(p.name)!;
      expect(got, p.name).to.deep.equal(Array.from(want));
      if (s === 0) {
        frozen++;
        expect(
          mixed.optimizer.get(`${p.name}.exp_avg`)!.every((v) => v === 0),
          p.name,
        ).to.equal(true);
      }
    }
    expect(frozen).to.be.above(0);
    expect(mixed.step).to.equal(1);
  });

  it('ort-train --pretrained_type encoder --head_warmup_steps: encoder from the checkpoint and frozen, the rest trained from the initial values', async () => {
    const set = await tinyArtifactSet();
    const dir = mkdtempSync(join(tmpdir(), 'unilvseg-transfer-'));
    // A "pre-trained" checkpoint far from the initial values: every weight + 1.
    const init = readCheckpoint(set.files.checkpoint, set.manifest);
    const pre = copy(init);
    for (const [k, v] of pre.params)
      pre.params.set(
        k,
        v.map((x) => x + 1),
      );
    const ckpt = join(dir, 'ssl.safetensors');
    writeCheckpoint(ckpt, set.manifest, pre);
    const out = join(dir, 'weak');
    await tinyWeakRun(out, {
      maxSteps: 2,
      lr: 1e-3,
      checkpoint: ckpt,
      transfer: { ...UPSTREAM_TRANSFER, pretrainedType: 'encoder', headWarmupSteps: 5 },
    });
    const last = readCheckpoint(join(out, 'last.safetensors'), set.manifest);
    expect(last.step).to.equal(2);
    let moved = 0;
    for (const p of set.manifest.params) {
      const got = last.params.get(p.name)!;
      if (p.name.startsWith('encoder')) {
        expect(Array.from(got), p.name).to.deep.equal(Array.from(pre.params.get(p.name)!));
        continue;
      }
      // two AdamW steps of 1e-3 from the initial values, nowhere near the checkpoint's (+1)
      const start = init.params.get(p.name)!;
      const drift = got.reduce((m, v, i) => Math.max(m, Math.abs(v - start[i])), 0);
      expect(drift, p.name).to.be.below(0.01);
      if (p.kind === 'param' && drift > 0) moved++;
    }
    expect(moved).to.be.above(0);
  });

  it('--check_val_every_n_epoch 2 validates in the second epoch only', async () => {
    const out = mkdtempSync(join(tmpdir(), 'unilvseg-valevery-'));
    await tinyWeakRun(out, { batchSize: 4, epochs: 2, checkValEveryNEpoch: 2 });
    const log = readJsonl(join(out, 'log.jsonl'));
    const perEpoch = log.filter((r) => r.event === 'step' && r.epoch === 0).length;
    const vals = log.filter((r) => r.event === 'val');
    expect(perEpoch).to.be.at.least(2);
    expect(vals.map((v) => [v.epoch, v.step])).to.deep.equal([[1, 2 * perEpoch]]);
  });
});
