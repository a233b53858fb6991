import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '../../src/artifacts/index.js';
import { decodeGraph } from '../../src/onnx/serialize.js';
import { runTraining } from '../../src/train/loop.js';
import { readJsonl } from '../../src/util/jsonl.js';
import type { TrainOptions } from '../../src/train/options.js';
import { synthDataset, tinyArtifactSet, tinyTrainOptions } from '../helpers/fixtures.js';

const CLI = join(process.cwd(), 'dist/src/cli/main.js');

function cliArgs(data: string, set: string, out: string, extra: string[] = []): string[] {
  return [
    CLI,
    'ort-train',
    '--phase',
    'ssl',
    '--data_path',
    data,
    '--artifacts',
    set,
    '--out',
    out,
    '--encoder',
    '3d_unet_small',
    '--width_mult',
    '0.0625',
    '--frames',
    '16',
    '--batch_size',
    '2',
    '--epochs',
    '2',
    '--val_check_interval',
    '1',
    '--num_workers',
    '0',
    '--threads',
    '1',
    '--save_every',
    '1',
    ...extra,
  ];
}

function run(args: string[], killAfterSteps?: { log: string; steps: number }): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let timer: NodeJS.Timeout | undefined;
    if (killAfterSteps) {
      timer = setInterval(() => {
        if (!existsSync(killAfterSteps.log)) return;
        const steps = readFileSync(killAfterSteps.log, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"event":"step"')).length;
        if (steps >= killAfterSteps.steps) child.kill('SIGKILL');
      }, 20);
    }
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`ort-train exited with ${code}: ${err}`));
      else resolve(signal ?? code ?? -1);
    });
  });
}

describe('train/loop: ort-train runs', function () {
  this.timeout(600_000);

  it('a weak run keeps the best checkpoint by val DSC and the last, logs JSON lines, bakes the best weights into model.onnx', async () => {
    const set = await tinyArtifactSet();
    const out = mkdtempSync(join(tmpdir(), 'unilvseg-weak-'));
    const o: TrainOptions = {
      ...(await tinyTrainOptions('weak')),
      out,
      batchSize: 2,
      epochs: 1,
      valCheckInterval: 0.5,
      numWorkers: 1,
      lr: 3e-3,
    };
    const summary = await runTraining(o);
    for (const f of [
      'best.safetensors',
      'last.safetensors',
      'log.jsonl',
      'curves.svg',
      'summary.json',
      'artifacts/model.onnx',
    ])
      expect(existsSync(join(out, f)), f).to.equal(true);
    const log = readJsonl(join(out, 'log.jsonl'));
    const steps = log.filter((r) => r.event === 'step');
    const vals = log.filter((r) => r.event === 'val');
    expect(steps.length).to.equal(summary.steps);
    expect(vals.length).to.be.at.least(2);
    for (const s of steps) expect(s).to.include.keys('loss', 'lr', 'seconds', 'dsc');
    const bestVal = vals.reduce((a, b) => (Number(b.val_dsc) > Number(a.val_dsc) ? b : a));
    expect(summary.best!.step).to.equal(bestVal.step);
    expect(summary.best!.value).to.equal(bestVal.val_dsc);
    expect(summary.test).to.have.keys('test_loss', 'test_dsc');
    const best = readCheckpoint(join(out, 'best.safetensors'), set.manifest);
    const last = readCheckpoint(join(out, 'last.safetensors'), set.manifest);
    expect(last.step).to.equal(summary.steps);
    const model = decodeGraph(readFileSync(join(out, 'artifacts/model.onnx')));
    const name = set.manifest.params[0].name;
    expect(Array.from(model.initializers.get(name)!.data as Float32Array)).to.deep.equal(
      Array.from(best.params.get(name)!),
    );
  });

  it('weak: the MultiStepLR schedule as the loop applies it, --max_steps, --resume mid-epoch to the same weights, --limit_val_batches, --no-test', async () => {
    const tiny = await tinyArtifactSet();
    // A copy of the set whose schedule drops the rate to 0 from epoch 1 on (milestone 1, gamma 0),
    // so whether the loop applied it shows in the weights: epoch 1 must leave them untouched.
    const set = mkdtempSync(join(tmpdir(), 'unilvseg-lr0-set-'));
    cpSync(tiny.dir, set, { recursive: true });
    const manifestPath = join(set, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.weak = { ...manifest.weak, milestones: [1], gamma: 0 };
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const o: Omit<TrainOptions, 'out'> = {
      ...(await tinyTrainOptions('weak')),
      artifacts: set, // the copy with the changed schedule
      batchSize: 1,
      epochs: 2,
      valCheckInterval: 1,
      pctTrain: 0.34, // 2 of the 6 training videos: 4 samples, 4 steps per epoch
      numWorkers: 0,
      lr: 3e-3,
      limitValBatches: 1, // of the validation split's 2 samples
      test: false,
    };
    const whole = mkdtempSync(join(tmpdir(), 'unilvseg-lr-whole-'));
    const summary = await runTraining({ ...o, out: whole });
    const B = 4;
    expect(summary.steps).to.equal(2 * B);
    expect(summary.test).to.equal(undefined);
    const log = readJsonl(join(whole, 'log.jsonl'));
    expect(log.some((r) => r.event === 'test')).to.equal(false);
    const steps = log.filter((r) => r.event === 'step');
    expect(steps.map((r) => [r.epoch, r.lr])).to.deep.equal([
      ...Array(B).fill([0, 3e-3]),
      ...Array(B).fill([1, 0]),
    ]);
    const vals = log.filter((r) => r.event === 'val');
    expect(vals.map((r) => [r.step, r.val_samples])).to.deep.equal([
      [B, 1],
      [2 * B, 1],
    ]);
    // Epoch 0 trained (weights moved); epoch 1 at rate 0 did not move them, so the best checkpoint
    // (epoch 0's validation; epoch 1's scores the same and is no improvement) equals the last.
    const params = (file: string) => readCheckpoint(join(whole, file), tiny.manifest);
    const [best, last, init] = [
      params('best.safetensors'),
      params('last.safetensors'),
      readCheckpoint(tiny.files.checkpoint, tiny.manifest),
    ];
    expect(best.step).to.equal(B);
    const name = 'encoder1.0.conv.unit0.conv.weight';
    expect(best.params.get(name)).to.not.deep.equal(init.params.get(name));
    for (const [k, v] of best.params) expect(last.params.get(k), k).to.deep.equal(v);

    // Stopped by --max_steps one step before the end of epoch 0, then resumed: the same run.
    const split = mkdtempSync(join(tmpdir(), 'unilvseg-lr-split-'));
    const first = await runTraining({ ...o, out: split, maxSteps: B - 1 });
    expect(first.steps).to.equal(B - 1);
    expect(first.stoppedEarly).to.match(/max_steps 3/);
    const resumed = await runTraining({ ...o, out: split, resume: true });
    expect(resumed.steps).to.equal(2 * B);
    const splitLog = readJsonl(join(split, 'log.jsonl')).filter((r) => r.event === 'step');
    expect(splitLog.map((r) => [r.step, r.epoch, r.lr])).to.deep.equal(
      steps.map((r) => [r.step, r.epoch, r.lr]),
    );
    const end = readCheckpoint(join(split, 'last.safetensors'), tiny.manifest);
    for (const [k, v] of last.params) expect(end.params.get(k), k).to.deep.equal(v);
  });

  it('--ep cuda without the CUDA provider stops at once with the install hint (nothing built)', async function () {
    const { cudaAvailable } = await import('../../src/onnx/runtime.js');
    if (cudaAvailable()) this.skip();
    const out = mkdtempSync(join(tmpdir(), 'unilvseg-cuda-'));
    const err = await new Promise<string>((resolve) => {
      const child = spawn(
        process.execPath,
        [CLI, 'ort-train', '--phase', 'weak', '--data_path', out, '--out', out, '--ep', 'cuda'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let text = '';
      child.stderr.on('data', (d) => (text += d));
      child.on('exit', (code) => resolve(`${code}: ${text}`));
    });
    expect(err).to.match(/^1: /);
    expect(err).to.contain('--onnxruntime-node-install=cuda12');
    expect(existsSync(join(out, 'artifacts'))).to.equal(false);
  });

  it('a run killed by SIGKILL resumes with --resume and ends with the same weights as an uninterrupted run', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const whole = mkdtempSync(join(tmpdir(), 'unilvseg-whole-'));
    const killed = mkdtempSync(join(tmpdir(), 'unilvseg-killed-'));
    expect(await run(cliArgs(data, set.dir, whole))).to.equal(0);
    expect(await run(cliArgs(data, set.dir, killed), { log: join(killed, 'log.jsonl'), steps: 3 })).to.equal(
      'SIGKILL',
    );
    const partial = readCheckpoint(join(killed, 'last.safetensors'), set.manifest);
    const full = readCheckpoint(join(whole, 'last.safetensors'), set.manifest);
    expect(partial.step).to.be.below(full.step);
    expect(await run(cliArgs(data, set.dir, killed, ['--resume']))).to.equal(0);
    const resumed = readCheckpoint(join(killed, 'last.safetensors'), set.manifest);
    expect(resumed.step).to.equal(full.step);
    for (const [k, v] of full.params)
      expect(Array.from(resumed.params.get(k)!), k).to.deep.equal(Array.from(v));
    const kinds = readJsonl(join(killed, 'log.jsonl'))
      .filter((r) => r.event === 'start')
      .map((r) => r.resumedAt);
    expect(kinds[0]).to.equal(null);
    expect(kinds[1]).to.not.equal(null);
  });
});
