// deploy/ on a real scheduler: a single-node Slurm (Debian's slurmctld, slurmd, munge) started for
// this file, the image's runtime stage installed by root, and deploy/README.md's commands run
// verbatim by an unprivileged user under --export=NONE. Needs root; skipped (saying why) elsewhere.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { readShardManifests } from '../../src/infer/batch/layout.js';
import { EXIT_INCOMPLETE } from '../../src/util/failures.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';
import { fileTree, resultsWithoutSeconds, summaryWithoutTimes } from '../helpers/batch-output.js';
import { tempDirs } from '../helpers/tmp.js';
import { CHECKOUT, echoInput, run, type EchoInput } from './helpers.js';
import { buildRuntimeImage, type Image } from './image-install.js';
import { SlurmCluster, whySlurmCannotStart } from './slurm-cluster.js';

const tmp = tempDirs('unilvseg-slurm');
/** The unprivileged user the jobs run as (created if missing, kept: other runs may be using it). */
const USER = 'unilvsegci';

function ensureUser(): { uid: number; gid: number } {
  const id = () => execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim();
  try {
    id();
  } catch {
    try {
      execFileSync(
        '/usr/sbin/useradd',
        ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/bash', USER],
        {
          stdio: 'pipe',
        },
      );
    } catch {
      // made meanwhile by a concurrent run: id below says
    }
  }
  return { uid: Number(id()), gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim()) };
}

/** The lines of the first ```bash block after `heading` in deploy/README.md that follow `from`. */
function readmeBlock(heading: string, nth = 0): string[] {
  const text = readFileSync(join(CHECKOUT, 'deploy/README.md'), 'utf8');
  const section = text.slice(text.indexOf(`\n${heading}\n`));
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1].trim().split('\n'));
  return blocks[nth];
}

describe('deploy/ on a real Slurm (single node, started for the test), as an unprivileged user', function () {
  this.timeout(600_000);
  let slurm: SlurmCluster | undefined;
  let image: Image;
  let model: string;
  let echo: EchoInput;
  let work: string;
  let nodeDir: string;
  let owner: { uid: number; gid: number };
  const killAtExit = () => slurm?.killNow();

  before(async function () {
    const why = whySlurmCannotStart();
    if (why) {
      console.log(`    skipped: a real Slurm cannot be started here: ${why}`);
      this.skip();
    }
    owner = ensureUser();
    // Everything the user reads: world-readable folders (mkdtemp makes them 0700).
    const shared = tmp('shared');
    chmodSync(shared, 0o755);
    image = buildRuntimeImage(join(shared, 'image'));
    // The scripts beside the image's install make it a checkout installed by root.
    cpSync(join(CHECKOUT, 'deploy'), join(image.workdir, 'deploy'), { recursive: true });
    // The site's hook puts node on the job's PATH (as `module load nodejs/20` would), from a folder
    // no login PATH has.
    nodeDir = join(shared, 'node-module', 'bin');
    mkdirSync(nodeDir, { recursive: true });
    symlinkSync(process.execPath, join(nodeDir, 'node'));
    writeFileSync(join(image.workdir, 'deploy/slurm/site-env.sh'), `export PATH=${nodeDir}:$PATH\n`);
    model = join(shared, 'model');
    mkdirSync(model);
    cpSync(join((await tinyArtifactSet()).dir, 'model.onnx'), join(model, 'model.onnx'));
    // 10 test-split videos (shard k of 10 has video k) and 2 training ones that --split test leaves out.
    echo = await echoInput(join(shared, 'echo'), 12);
    execFileSync('chmod', ['-R', 'a+rX', shared]);
    work = tmp('work');
    chownSync(work, owner.uid, owner.gid);
    process.on('exit', killAtExit);
    // 12 CPUs: three 4-CPU tasks at a time (the machine has fewer cores; the tiny model does not care).
    slurm = await SlurmCluster.start(tmp('slurm'), { cpus: 12, memoryMb: 16000 });
  });

  after(async () => {
    await slurm?.stop();
    process.off('exit', killAtExit);
  });

  /** `bash -c script` as the user in the work folder: a login's PATH, no submit environment for jobs. */
  const asUser = (script: string, vars: Record<string, string> = {}) =>
    run(
      '/usr/sbin/runuser',
      ['-u', USER, '--', '/bin/bash', '-c', script],
      { PATH: '/usr/bin:/bin', HOME: '/nonexistent', USER, ...slurm!.env, SBATCH_EXPORT: 'NONE', ...vars },
      work,
    );

  it("the image's runtime stage (deploy/Dockerfile's COPY and RUN npm ci, as root) segments a video as another user", async function () {
    expect(image.user).to.equal('node'); // the image runs unprivileged; USER stands for it here
    const [cmd, ...args] = image.entrypoint;
    const out = join(work, 'one-video');
    const r = await asUser(
      `${cmd} ${args.join(' ')} segment-video --video_path ${echo.testVideos[0]} --save_path ${out} --model ${model}`,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(fileTree(out)).to.include.members(['mask.avi', 'summary.json']);
  });

  it("deploy/README.md's commands: a 10-task array with task 3 cancelled before it starts, a merge naming its video (exit 4), task 3 resubmitted alone, a merge equal to one process's segment-batch; a requeued task's log keeps both attempts", async function () {
    const vars = { U: image.workdir, IN: echo.fileList, OUT: join(work, 'run-1'), MODEL: model };
    const [cd, ...setup] = readmeBlock('## Slurm', 0);
    expect(cd).to.match(/^cd .* && mkdir -p logs$/);
    const submit = setup.filter((l) => l.startsWith('jobid=') || l.startsWith('sbatch '));
    expect(submit).to.have.length(2);
    // The README's submission, then task 3 cancelled at once: tasks 0-2 hold the node's 12 CPUs, so it
    // is still pending.
    const first = await asUser(
      `mkdir -p logs && ${submit.join(' && ')} && scancel \${jobid}_3 && echo "array $jobid"`,
      vars,
    );
    expect(first.code, first.stderr).to.equal(0);
    const arrayId = /array (\d+)/.exec(first.stdout)![1];
    const mergeId = /Submitted batch job (\d+)/.exec(first.stdout)![1];
    const merged = await slurm!.waitEnded(mergeId);
    const mergeLog = () => readFileSync(join(work, 'logs', `unilvseg-merge-${mergeId}.log`), 'utf8');
    expect(merged, mergeLog()).to.deep.equal({ state: 'FAILED', exitCode: `${EXIT_INCOMPLETE}:0` });
    expect(mergeLog()).to.contain('10 videos: 9 done, 0 failed, 1 missing');
    expect(mergeLog()).to.contain(`missing: ${echo.testVideos[3]}`);
    expect(existsSync(join(vars.OUT, 'shards', 'shard-3-of-10.json'))).to.equal(false);

    // Task 3 alone, as the README says, and the merge after it.
    const redo = readmeBlock('## Slurm', 1);
    const second = await asUser(`${redo.join(' && ')} && echo "array $jobid"`, vars);
    expect(second.code, second.stderr).to.equal(0);
    const remergeId = /Submitted batch job (\d+)/.exec(second.stdout)![1];
    expect(await slurm!.waitEnded(remergeId)).to.deep.equal({ state: 'COMPLETED', exitCode: '0:0' });
    const manifests = readShardManifests(vars.OUT).map((m) => m.manifest);
    expect(manifests.map((m) => m.shard.count)).to.deep.equal(Array(10).fill(10));
    expect(manifests[3].shardFrom).to.equal('SLURM_ARRAY_TASK_ID=3 of --shards 10');
    expect(manifests[3].videos.map((v) => v.path)).to.deep.equal([echo.testVideos[3]]);

    // A finished task requeued (as pre-emption would): it runs again into the same, appended log.
    const task1 = `${arrayId}_1`;
    const requeue = await asUser(`scontrol requeue ${task1} && scontrol update jobid=${task1} StartTime=now`);
    expect(requeue.code, requeue.stderr).to.equal(0);
    expect(await slurm!.waitEnded(task1)).to.deep.equal({ state: 'COMPLETED', exitCode: '0:0' });
    const log1 = readFileSync(join(work, 'logs', `unilvseg-segment-${task1}.log`), 'utf8');
    expect(log1.match(/^unilvseg: .*, job \d+ task 1, /gm), log1).to.have.length(2);
    expect(log1).to.contain('1 of 10 videos, 0 already done, 1 to do');
    expect(log1).to.contain('1 of 10 videos, 1 already done, 0 to do');
    // The job ran the root-installed checkout with the node the site hook gave it; logs only in logs/.
    expect(log1).to.contain(
      `checkout ${image.workdir}, node ${join(nodeDir, 'node')}, command: node ${image.workdir}/dist/src/cli/main.js`,
    );
    expect(readdirSync(work).sort()).to.deep.equal(['logs', 'one-video', 'run-1']);

    // One process over the same input: the same per-video files and the same results.csv.
    const single = tmp('single');
    execFileSync(
      process.execPath,
      [
        join(CHECKOUT, 'dist/src/cli/main.js'),
        'segment-batch',
        '--input',
        echo.fileList,
        '--split',
        'test',
        '--output',
        single,
        '--model',
        model,
        '--threads',
        '1',
      ],
      { stdio: 'pipe' },
    );
    execFileSync(
      process.execPath,
      [join(CHECKOUT, 'dist/src/cli/main.js'), 'merge-batch', '--output', single],
      { stdio: 'pipe' },
    );
    const files = fileTree(join(single, 'videos'));
    expect(files).to.have.length(10 * 5);
    expect(fileTree(join(vars.OUT, 'videos'))).to.deep.equal(files);
    for (const f of files) {
      const [a, b] = [join(single, 'videos', f), join(vars.OUT, 'videos', f)];
      if (f.endsWith('summary.json')) expect(summaryWithoutTimes(b), f).to.deep.equal(summaryWithoutTimes(a));
      else expect(readFileSync(b).equals(readFileSync(a)), f).to.equal(true);
    }
    expect(resultsWithoutSeconds(vars.OUT)).to.deep.equal(resultsWithoutSeconds(single));
    expect(resultsWithoutSeconds(vars.OUT).filter((l) => l.includes(',done,'))).to.have.length(10);
  });
});
