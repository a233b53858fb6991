// The Slurm scripts of deploy/slurm run by bash as a Slurm job runs them (a copy of the script in a
// spool folder, started in the submit folder with only the SLURM_* variables and a login PATH, as
// under --export=NONE). The same scripts under a real slurmctld/slurmd: slurm.test.ts.
import { expect } from 'chai';
import { copyFileSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readShardManifests } from '../../src/infer/batch/layout.js';
import { EXIT_INCOMPLETE } from '../../src/util/failures.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';
import { TASK_MB, WORKER_MB } from './sizing.js';
import { CHECKOUT, echoInput, run, sbatchDirectives, slurmMb, type EchoInput } from './helpers.js';

const tmp = tempDirs('unilvseg-sbatch');

/** A copy of the script where Slurm keeps it (so its own path says nothing about the checkout). */
function spooled(script: string): string {
  const spool = tmp('spool');
  copyFileSync(join(CHECKOUT, 'deploy/slurm', script), join(spool, 'slurm_script'));
  return join(spool, 'slurm_script');
}

/** What `sbatch --array=1` gives the task: an array of one, task 1. */
const arrayOfOne = (id: number) => ({
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_MIN: String(id),
  SLURM_ARRAY_TASK_MAX: String(id),
  SLURM_ARRAY_TASK_COUNT: '1',
  SLURM_ARRAY_TASK_STEP: '1',
});

/** A PATH of the tools the scripts use, without node. */
function pathWithoutNode(): string {
  const bin = tmp('bin');
  for (const tool of ['sed', 'head', 'dirname', 'hostname', 'date', 'nproc', 'timeout'])
    symlinkSync(join('/usr/bin', tool), join(bin, tool));
  return bin;
}

describe('deploy/slurm scripts, run as a Slurm job runs them', function () {
  this.timeout(240_000);
  let model: string;
  let echo: EchoInput;
  let out: string;
  const login = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/nonexistent' };
  before(async () => {
    model = (await tinyArtifactSet()).dir;
    echo = await echoInput(tmp('echo'), 8);
    out = join(tmp('out'), 'run-1');
  });

  it('segment-batch.sbatch resubmitted as --array=1 runs shard 1 of the declared 10 (found from SLURM_SUBMIT_DIR), passes --split, --overlay, --pixel_spacing_mm, --no-crop on, uses 4 CPUs as 2 workers x 2 threads, and warns that its --mem is below what they need', async function () {
    const short = 2 * WORKER_MB + TASK_MB - 100;
    const env = {
      ...login,
      ...arrayOfOne(1),
      SLURM_CPUS_PER_TASK: '4',
      SLURM_MEM_PER_NODE: String(short),
      SLURM_SUBMIT_DIR: CHECKOUT,
    };
    const args = ['--input', echo.fileList, '--split', 'test', '--output', out, '--model', model];
    const flags = ['--overlay', '--pixel_spacing_mm', '0.5', '--no-crop'];
    const r = await run(
      '/bin/bash',
      [spooled('segment-batch.sbatch'), ...args, ...flags],
      env,
      tmp('submit'),
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain(`checkout ${CHECKOUT},`);
    expect(r.stderr).to.contain('4 CPU(s): 2 worker(s) x 2 thread(s)');
    expect(r.stderr).to.contain(
      `warning: 2 worker(s) of the full 3d_unet need about ${2 * WORKER_MB + TASK_MB} MB, the job has ${short} MB (--mem)`,
    );
    const manifests = readShardManifests(out).map((m) => m.manifest);
    expect(manifests.map((m) => [m.shard, m.shardFrom])).to.deep.equal([
      [{ index: 1, count: 10 }, 'SLURM_ARRAY_TASK_ID=1 of --shards 10'],
    ]);
    const [m] = manifests;
    expect(m.input).to.include({ kind: 'filelist', split: 'test', videos: echo.testVideos.length });
    expect(m.settings).to.deep.include({ overlay: true, crop: false, pixelSpacingMm: { x: 0.5, y: 0.5 } });
    expect(m.threads).to.equal(2);
    expect(m.videos.map((v) => v.path)).to.deep.equal([echo.testVideos[1]]);
    expect(readdirSync(join(out, 'videos', m.videos[0].key))).to.include('overlay.mp4');
  });

  it('segment-batch.sbatch with one CPU runs one worker of one thread, without a memory warning when --mem covers it', async function () {
    const env = {
      ...login,
      ...arrayOfOne(2),
      SLURM_CPUS_PER_TASK: '1',
      SLURM_MEM_PER_NODE: String(WORKER_MB + TASK_MB),
      SLURM_SUBMIT_DIR: CHECKOUT,
    };
    const args = ['--input', echo.fileList, '--split', 'test', '--output', tmp('one-cpu'), '--model', model];
    const r = await run('/bin/bash', [spooled('segment-batch.sbatch'), ...args], env, tmp('submit'));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('1 CPU(s): 1 worker(s) x 1 thread(s)');
    expect(r.stderr).to.not.contain('warning');
    expect(
      readShardManifests(join(args[5])).map((m) => [m.manifest.workers, m.manifest.threads]),
    ).to.deep.equal([[1, 1]]);
  });

  it('merge-batch.sbatch refuses to run without --input, and with it names the videos of the shards that never started (exit 4)', async function () {
    const env = { ...login, SLURM_JOB_ID: '', SLURM_SUBMIT_DIR: CHECKOUT };
    const without = await run(
      '/bin/bash',
      [spooled('merge-batch.sbatch'), '--output', out],
      env,
      tmp('submit'),
    );
    expect(without.code).to.equal(2);
    expect(without.stderr).to.contain("merge-batch.sbatch needs segment-batch's --input");
    const args = ['--input', echo.fileList, '--split', 'test', '--output', out];
    const r = await run('/bin/bash', [spooled('merge-batch.sbatch'), ...args], env, tmp('submit'));
    expect(r.code, r.stderr).to.equal(EXIT_INCOMPLETE);
    const never = echo.testVideos.filter((_, i) => i !== 1);
    expect(r.stdout).to.contain(
      `${echo.testVideos.length} videos: 1 done, 0 failed, ${never.length} missing`,
    );
    for (const v of never) expect(r.stdout).to.contain(v);
    for (const v of echo.trainVideos) expect(r.stdout).to.not.contain(v);
    const rows = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n').slice(1);
    expect(rows.filter((l) => l.includes(',missing,'))).to.have.length(never.length);
  });

  it('without node on the PATH (a login PATH under --export=NONE) the task stops naming Node.js >= 20 and the site hook; the hook (site-env.sh) puts node there', async function () {
    const bin = pathWithoutNode();
    const siteEnv = join(tmp('site'), 'site-env.sh');
    const env = { PATH: bin, HOME: '/nonexistent', ...arrayOfOne(3), SLURM_CPUS_PER_TASK: '1' };
    const args = ['--input', echo.fileList, '--split', 'test', '--output', tmp('hook'), '--model', model];
    const script = join(CHECKOUT, 'deploy/slurm/segment-batch.sbatch'); // run by hand: found beside it
    const none = await run(
      '/bin/bash',
      [script, ...args],
      { ...env, UNILVSEG_SITE_ENV: siteEnv },
      tmp('submit'),
    );
    expect(none.code).to.equal(1);
    expect(none.stderr).to.contain("no node on this job's PATH");
    expect(none.stderr).to.contain(`Node.js >= 20: load it in ${siteEnv}`);
    // What a site's `module load nodejs/20` does: a folder with node put on the PATH.
    const nodeDir = tmp('node-module');
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    writeFileSync(siteEnv, `export PATH=${nodeDir}:$PATH\n`);
    const hooked = await run(
      '/bin/bash',
      [script, ...args],
      { ...env, UNILVSEG_SITE_ENV: siteEnv },
      tmp('submit'),
    );
    expect(hooked.code, hooked.stderr).to.equal(0);
    expect(hooked.stderr).to.contain(
      `node ${join(nodeDir, 'node')}, command: node ${CHECKOUT}/dist/src/cli/main.js`,
    );
  });

  it('a copy of the script with no checkout to be found stops with a message saying how to point at one', async function () {
    const env = { ...login, ...arrayOfOne(0), SLURM_SUBMIT_DIR: tmp('elsewhere') };
    const r = await run('/bin/bash', [spooled('segment-batch.sbatch'), '--input', 'x'], env, tmp('submit'));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('cannot find the unilvseg-onnx checkout');
    expect(r.stderr).to.contain('set UNILVSEG_HOME');
  });

  it('the defaults size a task: --cpus-per-task = workers x threads, --mem within 1-1.5x what the workers of a full 3d_unet need, logs appended into logs/', function () {
    const d = sbatchDirectives('segment-batch.sbatch');
    expect(Number(d.get('cpus-per-task'))).to.equal(4); // 2 workers x 2 threads (first test)
    const need = 2 * WORKER_MB + TASK_MB;
    expect(slurmMb(d.get('mem')!)).to.be.within(need, 1.5 * need);
    for (const script of ['segment-batch.sbatch', 'merge-batch.sbatch']) {
      const s = sbatchDirectives(script);
      expect(s.get('open-mode'), script).to.equal('append');
      expect(dirname(s.get('output')!), script).to.equal('logs');
    }
    expect(d.has('requeue')).to.equal(true);
    expect(existsSync(join(CHECKOUT, 'deploy/slurm/site-env.example.sh'))).to.equal(true);
  });
});
