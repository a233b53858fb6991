// `--encoder uniformer_small` through the commands a user runs, in order, on the tiny synthetic
// dataset: build-graph, ort-train --phase ssl, ort-train --phase weak from UniFormer ImageNet-format
// encoder weights (--pretrained_type encoder), predict, segment-video, segment-batch and merge-batch.
// A narrow model (width 1/16, T = 4: a 2 x 2 grid of 128 x 128 tiles) keeps it to seconds a step.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/artifacts/checkpoint-file.js';
import { loadArtifactSet, readCheckpoint } from '../../src/artifacts/index.js';
import { main } from '../../src/cli/main.js';
import { openEchoNet } from '../../src/data/echonet.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { synthDataset } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('uniformer-commands');
const WIDTH = '0.0625';
const IMAGENET = 'test/fixtures/uniformer/imagenet-small.pth';
const run = (...args: string[]) => main(['node', 'unilvseg', ...args]);

/** stdout lines of a command run in this process. */
async function printed(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    await run(...args);
  } finally {
    console.log = log;
  }
  return lines;
}

describe('uniformer_small through the commands (build-graph, ort-train ssl and weak, predict, segment-video, segment-batch)', function () {
  this.timeout(600_000);
  let data: string;
  let set: string;
  let weak: string;

  before(async () => {
    data = await synthDataset();
    set = join(tmp('set'), 'set');
  });

  it('build-graph --encoder uniformer_small --frames 4 writes a super-image set with the head kept as an unused parameter; --frames 12 is refused', async () => {
    const lines = await printed([
      'build-graph',
      '--encoder',
      'uniformer_small',
      '--width_mult',
      WIDTH,
      '--frames',
      '4',
      '--out',
      set,
    ]);
    expect(lines.join('\n')).to.match(/build-graph: uniformer_small \(135,977 parameters, T=4, 112x112\)/);
    const m = loadArtifactSet(set).manifest;
    expect([m.model.family, m.model.tile]).to.deep.equal(['superimage', 128]);
    expect(m.params.filter((p) => p.kind === 'unused').map((p) => p.name)).to.deep.equal([
      'encoder.head.weight',
      'encoder.head.bias',
    ]);
    for (const g of ['model', 'train_weak', 'train_ssl'] as const)
      expect(m.graphs[g].inputs.map((i) => i.name)).to.not.include('encoder.head.weight');
    let refused = '';
    await run('build-graph', '--encoder', 'uniformer_small', '--frames', '12', '--out', tmp('bad')).catch(
      (e: Error) => (refused = e.message),
    );
    expect(refused).to.match(/perfect-square number of frames \(got 12/);
  });

  it('ort-train --phase ssl: two steps with finite losses; BatchNorm statistics move, the unused head does not', async () => {
    const out = tmp('ssl');
    await run(
      'ort-train',
      '--phase=ssl',
      `--data_path=${data}`,
      `--artifacts=${set}`,
      '--encoder=uniformer_small',
      `--width_mult=${WIDTH}`,
      '--frames=4',
      '--batch_size=2',
      '--max_steps=2',
      '--num_workers=0',
      '--threads=2',
      '--limit_val_batches=1',
      `--out=${out}`,
    );
    const steps = readJsonl(join(out, 'log.jsonl')).filter((r) => r.event === 'step');
    expect(steps.map((s) => s.step)).to.deep.equal([1, 2]);
    expect(steps.every((s) => Number.isFinite(Number(s.loss)))).to.equal(true);
    const manifest = loadArtifactSet(set).manifest;
    const init = readCheckpoint(join(set, 'checkpoint.safetensors'), manifest).params;
    const last = readCheckpoint(join(out, 'last.safetensors'), manifest).params;
    expect(last.get('encoder.head.weight')).to.deep.equal(init.get('encoder.head.weight'));
    expect(last.get('encoder.norm.running_mean')).to.not.deep.equal(init.get('encoder.norm.running_mean'));
    expect(last.get('encoder.blocks3.0.attn.qkv.weight')).to.not.deep.equal(
      init.get('encoder.blocks3.0.attn.qkv.weight'),
    );
  });

  it("ort-train --phase weak --pretrained_type encoder from an ImageNet-format file: the encoder starts from the file's weights (frozen here by --head_warmup_steps), the decoder from the set's; with pl_full the file is refused", async () => {
    weak = tmp('weak');
    const common = [
      'ort-train',
      '--phase=weak',
      `--data_path=${data}`,
      `--artifacts=${set}`,
      '--encoder=uniformer_small',
      `--width_mult=${WIDTH}`,
      '--frames=4',
      '--batch_size=2',
      '--num_workers=0',
      '--threads=2',
      `--checkpoint=${IMAGENET}`,
    ];
    await run(
      ...common,
      '--pretrained_type=encoder',
      '--head_warmup_steps=5',
      '--max_steps=2',
      '--no-test',
      `--out=${weak}`,
    );
    const manifest = loadArtifactSet(set).manifest;
    const file = (await loadCheckpoint(IMAGENET, manifest, { encoderOnly: true })).params;
    const init = readCheckpoint(join(set, 'checkpoint.safetensors'), manifest).params;
    const last = readCheckpoint(join(weak, 'last.safetensors'), manifest);
    expect(last.step).to.equal(2);
    let moved = 0;
    for (const p of manifest.params) {
      const got = last.params.get(p.name)!;
      if (p.name.startsWith('encoder.') && p.kind !== 'buffer')
        expect(Array.from(got), p.name).to.deep.equal(Array.from(file.get(p.name)!));
      else if (p.kind === 'param') {
        const start = init.get(p.name)!;
        expect(
          got.reduce((m, v, i) => Math.max(m, Math.abs(v - start[i])), 0),
          p.name,
        ).to.be.below(0.01);
        if (got.some((v, i) => v !== start[i])) moved++;
      }
    }
    expect(moved).to.be.above(0);
    let refused = '';
    await run(...common, '--max_steps=1', `--out=${tmp('weak-full')}`).catch(
      (e: Error) => (refused = e.message),
    );
    expect(refused).to.match(/holds an encoder's weights only/);
  });

  it('predict, segment-video, segment-batch and merge-batch run the trained super-image model', async () => {
    const preds = tmp('preds');
    await run(
      'predict',
      '--data_path',
      data,
      '--model',
      weak,
      '--save_dir',
      preds,
      '--threads',
      '2',
      '--num_workers',
      '0',
    );
    const test = openEchoNet(data, 'test');
    expect(readdirSync(preds).filter((f) => f.endsWith('.png'))).to.have.length(2 * test.length);
    const video = join(data, 'Videos', test[0].fileName);
    const one = tmp('one');
    await run('segment-video', '--video_path', video, '--save_path', one, '--model', weak, '--threads', '2');
    const summary = JSON.parse(readFileSync(join(one, 'summary.json'), 'utf8')) as {
      frames: number;
      model: string;
    };
    expect(summary.frames).to.be.above(40);
    expect(JSON.stringify(summary)).to.include('uniformer_small');
    const batch = tmp('batch');
    const list = join(data, 'FileList.csv');
    await run(
      'segment-batch',
      '--input',
      list,
      '--split',
      'val',
      '--output',
      batch,
      '--model',
      weak,
      '--threads',
      '2',
    );
    await printed(['merge-batch', '--output', batch]);
    const results = readFileSync(join(batch, 'results.csv'), 'utf8').trim().split('\n');
    const val = openEchoNet(data, 'val');
    expect(results).to.have.length(1 + val.length);
    expect(results.slice(1).every((r) => r.includes(',done,'))).to.equal(true);
    expect(existsSync(join(batch, 'failures.csv'))).to.equal(true);
  });
});
