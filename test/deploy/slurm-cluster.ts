// A single-node Slurm for the tests, from Debian's slurm-wlm and munge: munged, slurmctld and slurmd
// started by hand (no systemd), on loopback and free ports, every file under one folder (so several
// can run on one machine at once), no cgroups (proctrack/linuxproc, task/none), no accounting
// daemon. Needs root: slurmd starts each job as its user.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';

const DAEMONS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd'];
const CLIENTS = ['sbatch', 'scontrol', 'scancel', 'squeue', 'sinfo'];

/** Why a Slurm cannot be started here, or null when it can be tried. */
export function whySlurmCannotStart(): string | null {
  if (process.getuid?.() !== 0)
    return 'not root (slurmd must start jobs as another user, munged and slurmd need root)';
  const missing = [
    ...DAEMONS,
    ...CLIENTS.map((c) => `/usr/bin/${c}`),
    '/usr/sbin/runuser',
    '/usr/sbin/useradd',
  ].filter((f) => !existsSync(f));
  return missing.length
    ? `missing ${missing.join(', ')} (Debian: slurmctld slurmd slurm-client munge)`
    : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface JobInfo {
  state: string;
  exitCode: string;
}

export class SlurmCluster {
  /** Variables a client needs (the tests' own processes and the unprivileged user's). */
  readonly env: Record<string, string>;
  /** The daemons started, each signalled only while its pid is still that daemon. */
  private daemons: { pid: number; name: string }[] = [];
  private constructor(
    readonly dir: string,
    readonly conf: string,
  ) {
    this.env = { SLURM_CONF: conf };
  }

  /** munged, slurmctld and slurmd in `dir` (0755: clients of other users reach the munge socket). */
  static async start(dir: string, node: { cpus: number; memoryMb: number }): Promise<SlurmCluster> {
    for (const d of ['munge', 'state', 'spool', 'log'])
      mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const munge = join(dir, 'munge');
    writeFileSync(join(munge, 'munge.key'), randomBytes(1024), { mode: 0o400 });
    const socket = join(munge, 'munge.socket');
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const host = hostname().split('.')[0];
    const conf = join(dir, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=unilvsegtest',
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'SlurmUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU_Memory',
        'SchedulerType=sched/builtin',
        // The node as declared here (CPUs, memory), whatever the machine has.
        'SlurmdParameters=config_overrides',
        'ReturnToService=2',
        'MpiDefault=none',
        'MailProg=/bin/true',
        `NodeName=unilvsegnode NodeAddr=127.0.0.1 NodeHostname=${host} CPUs=${node.cpus} RealMemory=${node.memoryMb} State=UNKNOWN`,
        'PartitionName=test Nodes=unilvsegnode Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    const cluster = new SlurmCluster(dir, conf);
    const pidFiles = [join(munge, 'munged.pid'), join(dir, 'slurmctld.pid'), join(dir, 'slurmd.pid')];
    const commands: [string, string[]][] = [
      [
        '/usr/sbin/munged',
        [
          '--force',
          `--key-file=${join(munge, 'munge.key')}`,
          `--socket=${socket}`,
          `--pid-file=${pidFiles[0]}`,
          `--log-file=${join(dir, 'log', 'munged.log')}`,
          `--seed-file=${join(munge, 'munge.seed')}`,
        ],
      ],
      ['/usr/sbin/slurmctld', ['-f', conf, '-c']],
      ['/usr/sbin/slurmd', ['-f', conf, '-N', 'unilvsegnode']],
    ];
    try {
      for (const [i, [cmd, args]] of commands.entries()) {
        execFileSync(cmd, args, {
          env: { PATH: '/usr/sbin:/usr/bin:/bin', SLURM_CONF: conf },
          stdio: 'pipe',
        });
        // Each daemonizes; its pid file appears once it is up, and may exist a moment before its
        // number is written: an empty file read as pid 0 would make stop() signal our own process
        // group (CI's runner included).
        let pid: number | null = null;
        for (let t = 0; pid === null && t < 100; t++) {
          pid = readPid(pidFiles[i]);
          if (pid === null) await sleep(100);
        }
        if (pid === null) throw new Error(`${cmd} wrote no pid file (${pidFiles[i]})`);
        cluster.daemons.push({ pid, name: basename(cmd) });
      }
      for (let t = 0; t < 60; t++) {
        const state = await cluster.client('sinfo', ['-h', '-o', '%T']).catch(() => '');
        if (state.trim() === 'idle') return cluster;
        await sleep(500);
      }
      throw new Error('the node never became idle');
    } catch (e) {
      await cluster.stop();
      throw new Error(`${(e as Error).message}; logs:\n${cluster.logs()}`, { cause: e });
    }
  }

  /** A Slurm client as root. */
  client(cmd: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile(`/usr/bin/${cmd}`, args, { env: { ...process.env, ...this.env } }, (err, stdout, stderr) =>
        err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );
  }

  async job(id: string): Promise<JobInfo> {
    const text = await this.client('scontrol', ['show', 'job', '-o', id]);
    return { state: /JobState=(\S+)/.exec(text)![1], exitCode: /ExitCode=(\S+)/.exec(text)![1] };
  }

  /** Waits until job `id` (or an array task `A_k`) has ended, and says how. */
  async waitEnded(id: string, timeoutS = 240): Promise<JobInfo> {
    for (let t = 0; t < timeoutS * 2; t++) {
      const info = await this.job(id);
      if (!/PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED/.test(info.state)) return info;
      await sleep(500);
    }
    throw new Error(`job ${id} still not ended after ${timeoutS} s (${JSON.stringify(await this.job(id))})`);
  }

  logs(): string {
    return ['munged.log', 'slurmctld.log', 'slurmd.log']
      .map((f) => join(this.dir, 'log', f))
      .filter(existsSync)
      .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
  }

  /** Cancels what is left, then stops slurmd, slurmctld and munged (TERM, then KILL). */
  async stop(): Promise<void> {
    if (this.daemons.length === 3) {
      await this.client('scancel', ['--partition=test']).catch(() => undefined);
      for (let t = 0; t < 40; t++) {
        const queue = await this.client('squeue', ['-h']).catch(() => '');
        if (!queue.trim()) break;
        await sleep(500);
      }
    }
    for (const { pid, name } of this.daemons.reverse()) {
      if (!isDaemon(pid, name)) continue;
      process.kill(pid, 'SIGTERM');
      for (let t = 0; t < 50 && isDaemon(pid, name); t++) await sleep(100);
      if (isDaemon(pid, name)) process.kill(pid, 'SIGKILL');
    }
    this.daemons = [];
  }

  /** For process.on('exit'): no waiting, just KILL. */
  killNow(): void {
    for (const { pid, name } of this.daemons) if (isDaemon(pid, name)) process.kill(pid, 'SIGKILL');
  }
}

/** The daemon's pid from its pid file, or null while the file is missing or not yet a pid (> 1). */
export function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8').trim();
  const pid = /^\d+$/.test(text) ? Number(text) : NaN;
  return pid > 1 ? pid : null;
}

/**
 * Whether `pid` is still the daemon `name` (its /proc comm): never signals pid 0 or -1 (a whole
 * process group, or everything) nor a recycled pid.
 */
function isDaemon(pid: number, name: string): boolean {
  try {
    return pid > 1 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name.slice(0, 15);
  } catch {
    return false;
  }
}
