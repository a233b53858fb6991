// `ort-train` as a user runs it (the installed bin, flags parsed by the CLI), on fixed tiny data.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, type ArtifactSet } from '../../src/artifacts/index.js';
import type { Phase } from '../../src/defaults.js';
import { runTraining } from '../../src/train/loop.js';
import { defaultTrainOptions, type TrainOptions } from '../../src/train/options.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';

const BIN = join(process.cwd(), 'dist/src/cli/ort-train-bin.js');

function ortTrain(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ort-train exited with ${code}: ${err}`)),
    );
  });
}

/** What every run here shares, as flags: a tiny 3d_unet_small set, 16 frames, batches of 2, no workers. */
const tinyFlags = (data: string, set: ArtifactSet, threads = 1) => [
  `--data_path=${data}`,
  `--artifacts=${set.dir}`,
  '--encoder=3d_unet_small',
  `--width_mult=${set.manifest.model.widthMult}`,
  '--frames=16',
  '--batch_size=2',
  '--num_workers=0',
  `--threads=${threads}`,
];

/** The same settings for an in-process run. */
const tinyOptions = (phase: Phase, data: string, set: ArtifactSet): TrainOptions => ({
  ...defaultTrainOptions(phase),
  dataPath: data,
  out: '',
  artifacts: set.dir,
  encoder: '3d_unet_small',
  widthMult: set.manifest.model.widthMult,
  frames: 16,
  batchSize: 2,
  numWorkers: 0,
  threads: 1,
});

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `unilvseg-${name}-`));
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

describe('ort-train command line', function () {
  this.timeout(600_000);

  it('converges on a fixed tiny dataset: over 12 steps val DSC rises by > 0.1, val and training loss fall', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet('3d_unet_small', 0.125);
    const out = tmp('converge');
    await ortTrain([
      '--phase=weak',
      ...tinyFlags(data, set, 2),
      `--out=${out}`,
      '--epochs=2',
      '--lr=1e-2',
      '--val_check_interval=1',
      '--no-test',
    ]);
    const log = readJsonl(join(out, 'log.jsonl'));
    const vals = log
      .filter((r) => r.event === 'val')
      .map((r) => ({ dsc: Number(r.val_dsc), loss: Number(r.val_loss) }));
    expect(vals).to.have.length(2);
    expect(vals[1].dsc - vals[0].dsc).to.be.above(0.1);
    expect(vals[1].loss).to.be.below(vals[0].loss);
    const steps = log.filter((r) => r.event === 'step');
    expect(steps).to.have.length(12);
    const epochLoss = (e: number) => mean(steps.filter((r) => r.epoch === e).map((r) => Number(r.loss)));
    expect(epochLoss(1)).to.be.below(epochLoss(0) - 0.03);
  });

  it('--checkpoint: weak training starts from every weight of an SSL checkpoint with fresh optimizer state; SSL training resumes from it', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const common = tinyFlags(data, set);
    const ssl = tmp('ckpt-ssl');
    const pre = await runTraining({
      ...tinyOptions('ssl', data, set),
      out: ssl,
      maxSteps: 2,
      limitValBatches: 1,
    });
    expect(pre.steps).to.equal(2);
    const from = readCheckpoint(join(ssl, 'last.safetensors'), set.manifest);
    expect(from.optimizer.size).to.be.above(0);

    // --epochs 0: no training step, the run only validates and saves what it started from.
    const weak = tmp('ckpt-weak');
    await ortTrain([
      '--phase=weak',
      ...common,
      `--out=${weak}`,
      `--checkpoint=${join(ssl, 'last.safetensors')}`,
      '--epochs=0',
      '--no-test',
    ]);
    const start = readCheckpoint(join(weak, 'best.safetensors'), set.manifest);
    expect([start.step, start.epoch]).to.deep.equal([0, 0]);
    // Fresh optimizer state: none, or all zeros (the runner may hold zero moments for every parameter).
    expect([...start.optimizer.values()].every((m) => m.every((x) => x === 0))).to.equal(true);
    for (const [k, v] of from.params) expect(start.params.get(k), k).to.deep.equal(v);

    const resumed = tmp('ckpt-ssl-resume');
    await ortTrain([
      '--phase=ssl',
      ...common,
      `--out=${resumed}`,
      `--checkpoint=${join(ssl, 'last.safetensors')}`,
      '--max_steps=3',
      '--limit_val_batches=1',
    ]);
    const steps = readJsonl(join(resumed, 'log.jsonl')).filter((r) => r.event === 'step');
    expect(steps.map((r) => r.step)).to.deep.equal([3]);
  });

  it('--micro_batch 1 reaches the runner: the same weights as an in-process micro-batched run, not those of whole batches', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const o = { ...tinyOptions('weak', data, set), lr: 3e-3, maxSteps: 2, limitValBatches: 1, test: false };
    const cli = tmp('micro-cli');
    await ortTrain([
      '--phase=weak',
      ...tinyFlags(data, set),
      `--out=${cli}`,
      '--lr=3e-3',
      '--max_steps=2',
      '--limit_val_batches=1',
      '--no-test',
      '--micro_batch=1',
    ]);
    const [micro, whole] = [tmp('micro-1'), tmp('micro-0')];
    await runTraining({ ...o, out: micro, microBatch: 1 });
    await runTraining({ ...o, out: whole, microBatch: 0 });
    const weights = (dir: string) => readCheckpoint(join(dir, 'last.safetensors'), set.manifest).params;
    const [c, m, w] = [weights(cli), weights(micro), weights(whole)];
    for (const [k, v] of m) expect(c.get(k), k).to.deep.equal(v);
    // Summing micro-batch gradients equals the whole batch's up to float rounding, which two Adam
    // steps make visible somewhere.
    expect([...w].some(([k, v]) => v.some((x, i) => x !== m.get(k)![i]))).to.equal(true);
  });
});
