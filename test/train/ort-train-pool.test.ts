// `ort-train --phase ssl` on unlabelled videos (a folder, a list), smaller models (--size), and
// --milestones, as a user runs them (the installed bin).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl } from '../../src/util/jsonl.js';
import { synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const BIN = join(process.cwd(), 'dist/src/cli/ort-train-bin.js');

/** A frame cache of the tests' own (set in before()): the runs must not write into shared fixtures. */
let cache = '';

function ortTrain(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, UNILVSEG_CACHE: cache };
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

const tiny = [
  '--encoder=3d_unet_small',
  '--width_mult=0.0625',
  '--frames=16',
  '--batch_size=2',
  '--num_workers=0',
  '--threads=1',
];

describe('ort-train: SSL on unlabelled videos, --size, --milestones', function () {
  this.timeout(600_000);
  const tmp = tempDirs('unilvseg-pool-train');
  before(() => (cache = tmp('cache')));

  it('--phase ssl trains on a folder of videos, validates on --val_data, logs what it read', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const out = tmp('folder');
    const r = await ortTrain([
      '--phase=ssl',
      `--data_path=${join(data, 'Videos')}`,
      `--val_data=${data}`,
      `--artifacts=${set.dir}`,
      ...tiny,
      '--max_steps=2',
      `--out=${out}`,
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const log = readJsonl(join(out, 'log.jsonl'));
    const read = log.find((e) => e.event === 'data')!;
    expect(read.train).to.equal(`${join(data, 'Videos')} (folder, 8 videos)`);
    expect(read.val).to.equal(`${data} (split val)`);
    expect(log.filter((e) => e.event === 'step')).to.have.length(2);
    expect(log.some((e) => e.event === 'val' && Number.isFinite(e.val_loss))).to.equal(true);
    expect(existsSync(join(out, 'best.safetensors'))).to.equal(true);
    expect(readdirSync(join(data, 'Videos')).filter((f) => f.startsWith('.'))).to.deep.equal([]);
  });

  it('a listed video that is missing is reported by name and skipped; the run goes on', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const dir = tmp('list');
    const videos = readdirSync(join(data, 'Videos')).filter((f) => f.endsWith('.avi'));
    const list = join(dir, 'pool.txt');
    const missing = join(dir, 'gone.avi');
    writeFileSync(list, [...videos.map((v) => join(data, 'Videos', v)), missing].join('\n') + '\n');
    const out = join(dir, 'run');
    const r = await ortTrain([
      '--phase=ssl',
      `--data_path=${list}`,
      `--artifacts=${set.dir}`,
      ...tiny,
      '--max_steps=4',
      '--limit_val_batches=1',
      `--out=${out}`,
    ]);
    // exit code 3: finished, but some inputs were skipped (listed in failures.csv)
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.include(`skipping bad video ${missing}: no such file`);
    expect(readFileSync(join(out, 'failures.csv'), 'utf8')).to.include(missing);
    expect(readJsonl(join(out, 'log.jsonl')).filter((e) => e.event === 'step')).to.have.length(4);
  });

  it('weak supervision refuses a folder without tracings, naming it; --val_data is refused for weak', async () => {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const folder = join(data, 'Videos');
    const noTracings = await ortTrain([
      '--phase=weak',
      `--data_path=${folder}`,
      `--artifacts=${set.dir}`,
      ...tiny,
      `--out=${tmp('weak')}`,
    ]);
    expect(noTracings.code).to.not.equal(0);
    expect(noTracings.stderr).to.include(`${folder}: weak supervision needs an EchoNet-style folder`);
    const val = await ortTrain([
      '--phase=weak',
      `--data_path=${data}`,
      `--val_data=${data}`,
      `--artifacts=${set.dir}`,
      ...tiny,
      `--out=${tmp('weak2')}`,
    ]);
    expect(val.code).to.not.equal(0);
    expect(val.stderr).to.include('--val_data is for --phase ssl');
  });

  it('trains a 64-pixel model on 112-pixel videos and drops the learning rate at --milestones', async () => {
    const data = await synthDataset();
    const out = tmp('size64');
    const r = await ortTrain([
      '--phase=weak',
      `--data_path=${data}`,
      ...tiny,
      '--size=64',
      '--epochs=2',
      '--milestones=1',
      '--lr=1e-3',
      '--val_check_interval=1',
      `--out=${out}`,
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const log = readJsonl(join(out, 'log.jsonl'));
    const lrs = (epoch: number) => [
      ...new Set(log.filter((e) => e.event === 'step' && e.epoch === epoch).map((e) => e.lr)),
    ];
    expect(lrs(0)).to.deep.equal([1e-3]);
    expect(lrs(1)[0]).to.be.closeTo(1e-4, 1e-12);
    const test = log.find((e) => e.event === 'test')!;
    expect(Number(test.test_dsc)).to.be.within(0, 1);
    expect(JSON.parse(readFileSync(join(out, 'artifacts', 'manifest.json'), 'utf8')).model.size).to.equal(64);
    const bad = await ortTrain([
      '--phase=weak',
      `--data_path=${data}`,
      ...tiny,
      '--milestones=3,2',
      `--out=${tmp('ms')}`,
    ]);
    expect(bad.stderr).to.include('--milestones takes ascending epochs >= 1, got "3,2"');
  });
});
