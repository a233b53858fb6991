import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decodeVideo } from '../../src/data/video.js';
import { listBatchInput } from '../../src/infer/batch/inputs.js';
import { readShardManifests } from '../../src/infer/batch/layout.js';
import { mergeBatch } from '../../src/infer/batch/merge.js';
import { chooseShard } from '../../src/infer/batch/shard.js';
import { OUTPUT_FILES } from '../../src/infer/segment-core.js';
import { EXIT_INCOMPLETE, EXIT_SKIPPED } from '../../src/util/failures.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { fixtureVideoNames, synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { fileTree, resultsWithoutSeconds, summaryWithoutTimes } from '../helpers/batch-output.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-segment-batch');
const CLI = join(process.cwd(), 'dist/src/cli/main.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as its own process; `killWhen` is polled and the process SIGKILLed once it holds. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, killWhen?: () => boolean): Promise<Exit> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(SLURM_|JOB_COMPLETION_INDEX|UNILVSEG_SHARDS)/.test(k)),
    );
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killWhen && setInterval(() => killWhen() && child.kill('SIGKILL'), 10);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const logEvents = (out: string, event: string) =>
  readdirSync(join(out, 'shards'))
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readJsonl(join(out, 'shards', f)))
    .filter((r) => r.event === event)
    .map((r) => String(r.key));

describe('infer/batch: segment-batch and merge-batch', function () {
  this.timeout(300_000);
  let model: string;
  let input: string;
  let keys: string[];
  const broken = 'b/broken';
  before(async () => {
    const data = await synthDataset();
    model = (await tinyArtifactSet()).dir;
    // Six videos in two subfolders, one garbage "video", one text file that is no video.
    input = tmp('input');
    const names = fixtureVideoNames(data).slice(0, 6);
    names.forEach((n, i) => {
      const sub = join(input, i < 3 ? 'a' : 'b');
      mkdirSync(sub, { recursive: true });
      copyFileSync(join(data, 'Videos', n), join(sub, n));
    });
    writeFileSync(join(input, 'b', 'broken.avi'), 'RIFF not really an AVI');
    writeFileSync(join(input, 'notes.txt'), 'not a video');
    keys = [...names.map((n, i) => `${i < 3 ? 'a' : 'b'}/${n.replace('.avi', '')}`), broken].sort();
  });

  describe('shard selection', function () {
    it('--shard i/n, else a Slurm array task, else a Kubernetes Indexed Job pod, else the whole list', function () {
      expect(chooseShard('2/5', undefined, {}).shard).to.deep.equal({ index: 2, count: 5 });
      const slurm = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0' };
      expect(chooseShard(undefined, undefined, slurm)).to.deep.equal({
        shard: { index: 3, count: 4 },
        from: 'SLURM_ARRAY_TASK_ID=3',
      });
      // --array=1-8:2 -> tasks 1, 3, 5, 7: task 5 is the third (index 2) of 4.
      const stepped = {
        ...slurm,
        SLURM_ARRAY_TASK_ID: '5',
        SLURM_ARRAY_TASK_MIN: '1',
        SLURM_ARRAY_TASK_MAX: '7',
      };
      expect(
        chooseShard(undefined, undefined, { ...stepped, SLURM_ARRAY_TASK_STEP: '2' }).shard,
      ).to.deep.equal({
        index: 2,
        count: 4,
      });
      expect(chooseShard('0/2', undefined, slurm).shard).to.deep.equal({ index: 0, count: 2 }); // the flag wins
      const k8s = { JOB_COMPLETION_INDEX: '1' };
      expect(chooseShard(undefined, 3, k8s).shard).to.deep.equal({ index: 1, count: 3 });
      expect(chooseShard(undefined, undefined, { ...k8s, UNILVSEG_SHARDS: '2' })).to.deep.equal({
        shard: { index: 1, count: 2 },
        from: 'JOB_COMPLETION_INDEX=1',
      });
      expect(chooseShard(undefined, undefined, {}).shard).to.deep.equal({ index: 0, count: 1 });
    });

    it('a Slurm task with the count fixed at submission (--shards, UNILVSEG_SHARDS) is shard SLURM_ARRAY_TASK_ID of it: a one-task resubmission (--array=1) keeps its shard', function () {
      // What Slurm sets for `sbatch --array=1`: an array of one task.
      const one = {
        SLURM_ARRAY_TASK_ID: '1',
        SLURM_ARRAY_TASK_MIN: '1',
        SLURM_ARRAY_TASK_MAX: '1',
        SLURM_ARRAY_TASK_COUNT: '1',
        SLURM_ARRAY_TASK_STEP: '1',
      };
      expect(chooseShard(undefined, 3, one)).to.deep.equal({
        shard: { index: 1, count: 3 },
        from: 'SLURM_ARRAY_TASK_ID=1 of --shards 3',
      });
      expect(chooseShard(undefined, undefined, { ...one, UNILVSEG_SHARDS: '10' }).shard).to.deep.equal({
        index: 1,
        count: 10,
      });
      // Without a fixed count the array's own is all there is.
      expect(chooseShard(undefined, undefined, one).shard).to.deep.equal({ index: 0, count: 1 });
    });

    it('refuses a shard it cannot place: no count, out of range, irregular Slurm arrays, disagreeing counts', function () {
      expect(() => chooseShard(undefined, undefined, { JOB_COMPLETION_INDEX: '1' })).to.throw(
        /pass --shards N or set UNILVSEG_SHARDS/,
      );
      expect(() => chooseShard(undefined, 2, { JOB_COMPLETION_INDEX: '2' })).to.throw(
        /not below the number of shards 2/,
      );
      const slurm = { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' };
      expect(() => chooseShard(undefined, undefined, slurm)).to.throw(/not a task of the array/);
      expect(() =>
        chooseShard(undefined, undefined, { ...slurm, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MAX: '9' }),
      ).to.throw(/not a regular range/);
      expect(() =>
        chooseShard(undefined, 4, { ...slurm, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MAX: '4' }),
      ).to.throw(/--shards 4: the shards are array tasks 0-3, but this array goes up to task 4/);
      expect(() => chooseShard(undefined, 3, {})).to.throw(/without a shard index/);
      expect(() => chooseShard('3/3', undefined, {})).to.throw(/--shard takes i\/n/);
    });
  });

  it('input: a folder recursively and sorted (non-videos ignored), a list of paths, a FileList.csv without labels', function () {
    const folder = listBatchInput(input);
    expect(folder.kind).to.equal('folder');
    expect(folder.videos.map((v) => v.key)).to.deep.equal(keys);
    expect(folder.ignored).to.deep.equal(['notes.txt']);
    const list = join(tmp('list'), 'videos.txt');
    const paths = folder.videos.map((v) => v.path);
    // Comments, blanks, a duplicate and relative paths (against the list's folder).
    writeFileSync(
      list,
      ['# my videos', '', paths[2], paths[0], relative(join(list, '..'), paths[1]), paths[0]].join('\n'),
    );
    const fromList = listBatchInput(list);
    expect(fromList.videos.map((v) => v.path)).to.deep.equal(paths.slice(0, 3));
    expect(fromList.videos.map((v) => v.key)).to.deep.equal(keys.slice(0, 3).map((k) => k.replace('a/', '')));
    const root = tmp('filelist');
    mkdirSync(join(root, 'Videos'));
    writeFileSync(join(root, 'FileList.csv'), 'FileName,Split\nV1,TEST\nV2,TRAIN\nV3.avi,TEST\n');
    const fl = listBatchInput(join(root, 'FileList.csv'), { split: 'test' });
    expect(fl.videos).to.deep.equal([
      { key: 'V1', path: join(root, 'Videos', 'V1.avi') },
      { key: 'V3', path: join(root, 'Videos', 'V3.avi') },
    ]);
    expect(listBatchInput(join(root, 'FileList.csv')).videos).to.have.length(3);
    expect(listBatchInput(input).listSha256).to.equal(folder.listSha256);
  });

  it('three shards as separate processes (--shard, Slurm and Kubernetes variables) make the single-process outputs, each video once; the corrupt one in failures.csv', async function () {
    const single = tmp('single');
    const sharded = tmp('sharded');
    const common = ['segment-batch', '--input', input, '--model', model, '--threads', '1'];
    const one = await cli([...common, '--output', single, '--workers', '2']);
    expect(one.code, one.stderr).to.equal(EXIT_SKIPPED);
    const shards = await Promise.all([
      cli([...common, '--output', sharded, '--shard', '0/3']),
      cli([...common, '--output', sharded], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' }),
      cli([...common, '--output', sharded], { JOB_COMPLETION_INDEX: '2', UNILVSEG_SHARDS: '3' }),
    ]);
    expect(shards.map((s) => s.code)).to.have.members([0, 0, EXIT_SKIPPED]);
    const manifests = readShardManifests(sharded).map((m) => m.manifest);
    expect(manifests.map((m) => m.shardFrom)).to.deep.equal([
      '--shard',
      'SLURM_ARRAY_TASK_ID=1',
      'JOB_COMPLETION_INDEX=2',
    ]);
    // Each video in exactly one shard, and segmented (or failed) exactly once.
    expect(manifests.flatMap((m) => m.videos.map((v) => v.key)).sort()).to.deep.equal(keys);
    expect(
      [...logEvents(sharded, 'video'), ...logEvents(sharded, 'failed').map(() => broken)].sort(),
    ).to.deep.equal(keys);
    expect(logEvents(sharded, 'begin').sort()).to.deep.equal(keys);

    const files = fileTree(join(single, 'videos'));
    expect(fileTree(join(sharded, 'videos'))).to.deep.equal(files);
    // 3 videos x every output but the overlay
    expect(files.filter((f) => f.startsWith('a/')).length).to.equal(
      3 * (Object.keys(OUTPUT_FILES).length - 1),
    );
    for (const f of files) {
      const [a, b] = [join(single, 'videos', f), join(sharded, 'videos', f)];
      if (f.endsWith('summary.json')) {
        expect(summaryWithoutTimes(a), f).to.deep.equal(summaryWithoutTimes(b));
        // Nothing in it points into the output folder: the results stay valid when it moves.
        expect(readFileSync(b, 'utf8'), f).to.not.contain(sharded);
        expect(Object.values(JSON.parse(readFileSync(b, 'utf8')).outputs).sort(), f).to.deep.equal(
          Object.values(OUTPUT_FILES)
            .filter((n) => n !== OUTPUT_FILES.overlay)
            .sort(),
        );
      } else if (f.endsWith('failure.json'))
        expect(JSON.parse(readFileSync(a, 'utf8')).problem).to.be.a('string');
      else expect(readFileSync(a).equals(readFileSync(b)), f).to.equal(true);
    }
    const merged = [mergeBatch({ output: single }), mergeBatch({ output: sharded })];
    for (const m of merged)
      expect([m.videos, m.done, m.failed, m.missing.length]).to.deep.equal([7, 6, 1, 0]);
    const results = resultsWithoutSeconds(single);
    expect(resultsWithoutSeconds(sharded)).to.deep.equal(results);
    expect(results[0]).to.equal('path,output,status,frames,fps,ed_frames,es_frames,ef,edv_ml,esv_ml,problem');
    expect(results.filter((l) => l.includes(',done,'))).to.have.length(6);
    const failures = readFileSync(join(sharded, 'failures.csv'), 'utf8').trim().split('\n');
    expect(failures).to.have.length(2);
    expect(failures[1]).to.match(new RegExp(`^${join(input, 'b', 'broken.avi')},`));
    expect(readFileSync(join(single, 'failures.csv'), 'utf8')).to.equal(failures.join('\n') + '\n');
  });

  it('a shard killed by SIGKILL mid-video: another partition of the folder is refused while it has not finished, merge-batch names what is missing (exit 4), a re-run does only the missing videos and leaves no partial or temporary file', async function () {
    const out = tmp('killed');
    const args = [
      'segment-batch',
      '--input',
      input,
      '--model',
      model,
      '--output',
      out,
      '--threads',
      '1',
      '--overlay',
    ];
    const log = join(out, 'shards', 'shard-0-of-2.jsonl');
    const events = (e: string) =>
      existsSync(log)
        ? readJsonl(log)
            .filter((r) => r.event === e)
            .map((r) => r.key)
        : [];
    // Killed while a video's outputs are being written (a temporary file is in its folder), after
    // at least one video is done.
    let victim = '';
    const writing = () => {
      const begun = events('begin');
      if (events('video').length < 1 || begun.length < 2) return false;
      victim = String(begun[begun.length - 1]);
      const dir = join(out, 'videos', victim);
      return existsSync(dir) && readdirSync(dir).some((f) => f.includes('.tmp'));
    };
    const killed = await cli([...args, '--shard', '0/2'], {}, writing);
    expect(killed.signal).to.equal('SIGKILL');
    const doneBefore = events('video');
    const mine = readShardManifests(out)[0].manifest.videos.map((v) => v.key);
    expect(doneBefore.length).to.be.lessThan(mine.length);

    // Another partition of the same folder while this shard may still run: refused, naming it.
    const overlapping = await cli([...args, '--shard', '0/1']);
    expect(overlapping.code).to.equal(1);
    expect(overlapping.stderr).to.contain('shard-0-of-2 started');
    expect(overlapping.stderr).to.contain('has not finished');
    expect(overlapping.stderr).to.contain('would segment some of its videos at the same time');
    expect(existsSync(join(out, 'shards', 'shard-0-of-1.json'))).to.equal(false);

    const merge = await cli(['merge-batch', '--output', out]);
    expect(merge.code).to.equal(EXIT_INCOMPLETE);
    const missingNow = mine.filter((k) => !doneBefore.includes(k));
    expect(merge.stdout).to.contain(
      `${mine.length + 3} videos: ${doneBefore.length} done, 0 failed, ${missingNow.length + 3} missing`,
    );
    expect(merge.stdout).to.contain('shards that never started: shard-1-of-2');
    for (const k of missingNow) expect(merge.stdout).to.contain(join(input, `${k}.avi`));

    const rerun = await cli([...args, '--shard', '0/2']);
    expect(rerun.code, rerun.stderr).to.be.oneOf([0, EXIT_SKIPPED]);
    const begun = readJsonl(log)
      .filter((r) => r.event === 'begin')
      .map((r) => r.key);
    expect(begun.slice(events('begin').length - missingNow.length)).to.deep.equal(missingNow); // the re-run's
    expect(begun.filter((k) => doneBefore.includes(k))).to.deep.equal(doneBefore); // each began once, before the kill
    expect(missingNow).to.include(victim);
    const masks = await decodeVideo(join(out, 'videos', victim, 'mask.avi'));
    const summary = JSON.parse(readFileSync(join(out, 'videos', victim, 'summary.json'), 'utf8'));
    expect(masks.count).to.equal(summary.frames);
    const all = readdirSync(out, { recursive: true }) as string[];
    expect(all.filter((f) => /\.tmp/.test(f))).to.deep.equal([]);
    for (const k of mine.filter((k) => k !== broken))
      expect(readdirSync(join(out, 'videos', k)).sort(), k).to.deep.equal(Object.values(OUTPUT_FILES).sort());
    const after = await cli(['merge-batch', '--output', out, '--input', input]);
    expect(after.code).to.equal(EXIT_INCOMPLETE); // shard 1 still never ran
    expect(after.stdout).to.contain(`7 videos: ${mine.length - (mine.includes(broken) ? 1 : 0)} done`);
  });

  it('--workers 2: a worker process killed mid-video costs only that video (failed, named), the others complete; a re-run does it', async function () {
    const out = tmp('worker-crash');
    const args = ['segment-batch', '--input', input, '--model', model, '--output', out, '--workers', '2'];
    const log = join(out, 'shards', 'shard-0-of-1.jsonl');
    let killed: { key: string; pid: number } | undefined;
    const killWorker = () => {
      if (killed || !existsSync(log)) return false;
      const begin = readJsonl(log).find((r) => r.event === 'begin' && r.worker === 1 && r.key !== broken);
      if (begin) {
        killed = { key: String(begin.key), pid: Number(begin.pid) };
        process.kill(killed.pid, 'SIGKILL');
      }
      return false; // the main process runs on
    };
    const first = await cli([...args, '--threads', '1'], {}, killWorker);
    expect(killed, 'a worker began a video').to.not.equal(undefined);
    expect(first.code, first.stderr).to.equal(EXIT_SKIPPED);
    const failures = readFileSync(join(out, 'shards', 'shard-0-of-1.failures.csv'), 'utf8');
    expect(failures).to.contain(
      `${join(input, `${killed!.key}.avi`)},the worker process segmenting it died (SIGKILL)`,
    );
    const merged = mergeBatch({ output: out });
    expect([merged.done, merged.failed]).to.deep.equal([keys.length - 2, 2]);
    const second = await cli([...args, '--threads', '1']);
    expect(second.code).to.equal(EXIT_SKIPPED); // the garbage video fails again
    expect(mergeBatch({ output: out })).to.include({ done: keys.length - 1, failed: 1 });
  });

  it('results.csv gives EDV/ESV in mL with a pixel spacing; a re-run skips complete videos; other settings in the same folder are refused', async function () {
    const out = tmp('settings');
    const args = ['segment-batch', '--input', input, '--model', model, '--output', out, '--threads', '1'];
    const spacing = ['--pixel_spacing_mm', '0.5'];
    expect((await cli([...args, ...spacing, '--shard', '1/4'])).code).to.equal(0);
    const rows =
      mergeBatch({ output: out, input }) && readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    const done = rows.slice(1).filter((l) => l.includes(',done,'));
    expect(done).to.have.length(2);
    for (const row of done) {
      const f = row.split(',');
      const summary = JSON.parse(readFileSync(join(out, f[1], 'summary.json'), 'utf8'));
      expect([Number(f[8]), Number(f[9])]).to.deep.equal([
        Number(summary.meanEdvMl.toFixed(2)),
        Number(summary.meanEsvMl.toFixed(2)),
      ]);
      expect(Number(f[8])).to.be.greaterThan(0);
    }
    const again = await cli([...args, ...spacing, '--shard', '1/4']);
    expect(again.stdout).to.match(/0 segmented, 2 already done, 0 failed/);
    const overlap = await cli([...args, ...spacing, '--shard', '0/4', '--overlap']);
    expect(overlap.code).to.equal(1);
    expect(overlap.stderr).to.contain('holds results made with other settings');
    expect(overlap.stderr).to.contain('--overlap false vs true');
    const noSpacing = await cli([...args, '--shard', '0/4']);
    expect(noSpacing.code).to.equal(1);
    expect(noSpacing.stderr).to.contain('--pixel_spacing_mm {"x":0.5,"y":0.5} vs null');
  });
});
