import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { EXIT_SKIPPED } from '../../src/util/failures.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { damagedCopy, type Damage } from '../helpers/damaged.js';
import { synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-skip-bad');

/** failures.csv rows (file, problem) after its header; the problems hold no quotes in these tests. */
function failureRows(path: string): { file: string; problem: string }[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  expect(lines[0]).to.equal('file,problem');
  return lines.slice(1).map((l) => {
    const at = l.indexOf(',');
    return { file: l.slice(0, at), problem: l.slice(at + 1).replace(/^"|"$/g, '') };
  });
}

/** Which damaged video each failure names (by file or in its problem). */
function named(rows: { file: string; problem: string }[], damaged: Record<Damage, string>): Damage[] {
  return rows.map((r) => {
    const hit = (Object.keys(damaged) as Damage[]).filter(
      (d) => r.file.endsWith(damaged[d]) || r.problem.includes(damaged[d]),
    );
    expect(hit, `${r.file}: ${r.problem}`).to.have.length(1);
    return hit[0];
  });
}

const run = (argv: string[]) => main(['node', 'unilvseg', ...argv]);

describe('one bad item never stops a batch (predict, segment-video, ort-train)', function () {
  this.timeout(300_000);
  let model: string;
  let src: string;
  before(async () => {
    src = await synthDataset();
    model = (await tinyArtifactSet()).dir;
  });
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('predict: the six damaged videos are named with their reason in failures.csv, the two good ones predicted, exit status 3; --strict stops', async () => {
    const data = tmp('predict-data');
    const { damaged, good } = damagedCopy(src, data);
    const out = tmp('predict-out');
    const common = ['predict', '--data_path', data, '--model', model, '--split', 'all', '--threads', '1'];
    await run([...common, '--save_dir', out, '--num_workers', '0', '--batch_size', '2']);
    expect(process.exitCode).to.equal(EXIT_SKIPPED);
    const rows = failureRows(join(out, 'failures.csv'));
    expect(named(rows, damaged).sort()).to.deep.equal(
      ['badNumber', 'empty', 'garbage', 'missing', 'oneFrame', 'truncated'].sort(),
    );
    const why = Object.fromEntries(named(rows, damaged).map((d, i) => [d, rows[i].problem]));
    expect(why.missing).to.match(/no such file \(listed in .*FileList\.csv line \d+\)/);
    expect(why.badNumber).to.match(/line \d+: .* left out: column Y1: ".*" is not a number/);
    expect(why.oneFrame).to.match(/one distinct frame \(7\)/);
    expect(why.empty).to.match(/empty file/);
    expect(why.truncated).to.match(/truncated|corrupt/);
    const pngs = readdirSync(out).filter((f) => f.endsWith('.png'));
    expect(pngs.map((f) => f.replace(/_\d+_e[sd]v\.png$/, '.avi')).sort()).to.deep.equal(
      [...good, ...good].sort(),
    );
    const log = readJsonl(join(out, 'predictions.jsonl'));
    expect(log.filter((r) => r.event === 'skipped')).to.have.length(6);
    process.exitCode = undefined;
    let error = '';
    await run([...common, '--save_dir', tmp('predict-strict'), '--strict']).catch((e) => (error = e.message));
    expect(error).to.match(/video\(s\) listed in .* are missing/);
  });

  it('segment-video batch mode: missing, garbage, truncated and empty videos in failures.csv (tracings not needed), the rest segmented, exit status 3', async () => {
    const data = tmp('segment-data');
    const { damaged, good } = damagedCopy(src, data);
    const out = tmp('segment-out');
    await run(['segment-video', '--data_path', data, '--split', 'all', '--save_path', out, '--model', model]);
    expect(process.exitCode).to.equal(EXIT_SKIPPED);
    const rows = failureRows(join(out, 'failures.csv'));
    expect(named(rows, damaged).sort()).to.deep.equal(['empty', 'garbage', 'missing', 'truncated']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.processed).to.equal(good.length + 2); // badNumber and oneFrame decode fine
    expect(summary.perVideo.map((v: { video: string }) => v.video)).to.include.members([
      damaged.badNumber,
      damaged.oneFrame,
      ...good,
    ]);
  });

  it('ort-train: the damaged training videos are named in failures.csv and log.jsonl, training runs on the rest, exit status 3; --strict stops', async () => {
    const data = tmp('train-data');
    const { damaged } = damagedCopy(src, data, { damaged: 'TRAIN', last: 'VAL' });
    const out = tmp('train-out');
    const args = (o: string) => [
      'ort-train',
      '--phase',
      'weak',
      '--data_path',
      data,
      '--artifacts',
      model,
      '--out',
      o,
      '--encoder',
      '3d_unet_small',
      '--width_mult',
      '0.0625',
      '--frames',
      '16',
      '--batch_size',
      '2',
      '--epochs',
      '1',
      '--num_workers',
      '0',
      '--threads',
      '1',
      '--no-test',
    ];
    await run(args(out));
    expect(process.exitCode).to.equal(EXIT_SKIPPED);
    const rows = failureRows(join(out, 'failures.csv'));
    expect(named(rows, damaged).sort()).to.deep.equal(
      ['badNumber', 'empty', 'garbage', 'missing', 'oneFrame', 'truncated'].sort(),
    );
    const log = readJsonl(join(out, 'log.jsonl'));
    expect(log.filter((r) => r.event === 'bad_video')).to.have.length(6);
    expect(log.filter((r) => r.event === 'step')).to.have.length(1);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).skipped).to.equal(6);
    process.exitCode = undefined;
    let error = '';
    await run([...args(tmp('train-strict')), '--strict']).catch((e) => (error = e.message));
    expect(error).to.match(/are missing/);
  });
});
