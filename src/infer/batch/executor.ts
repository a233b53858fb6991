// Runs video jobs on K ONNX Runtime sessions: in this process for one worker, else in K worker
// processes (each its own session, decoding and writing), so the cores are really shared out.
// A worker process that dies mid-video costs that video (recorded as failed), not the run.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionProvider } from '../../onnx/runtime.js';
import { loadSegmentationModel, type SegmentationModel } from '../model.js';
import {
  runVideoJob,
  writeFailureRecord,
  type JobOutcome,
  type JobSettings,
  type VideoJob,
} from './video-job.js';

export interface ExecutorConfig {
  /** A model.onnx file (a checkpoint is baked into one before). */
  modelFile: string;
  ep: ExecutionProvider;
  threads: number;
  settings: JobSettings;
}

interface Executor {
  /** The model line of the session (encoder, T, p, size, provider). */
  describe: string;
  /** The process that runs the jobs. */
  readonly pid: number;
  /** Starts the process again if it died. */
  ensureRunning(): Promise<void>;
  run(job: VideoJob): Promise<JobOutcome>;
  close(): Promise<void>;
}

const WORKER_ARG = '--unilvseg-segment-worker';

type ToWorker = { type: 'init'; config: ExecutorConfig } | { type: 'video'; job: VideoJob };
type FromWorker =
  | { type: 'ready'; describe: string }
  | { type: 'outcome'; outcome: JobOutcome }
  | { type: 'fatal'; message: string };

async function inProcess(c: ExecutorConfig): Promise<Executor> {
  const model: SegmentationModel = await loadSegmentationModel({
    model: c.modelFile,
    ep: c.ep,
    threads: c.threads,
  });
  return {
    describe: model.describe,
    pid: process.pid,
    ensureRunning: async () => undefined,
    run: (job) => runVideoJob(job, model, c.settings),
    close: () => model.release(),
  };
}

class WorkerProcess implements Executor {
  describe = '';
  private child!: ChildProcess;
  private pending?: { resolve: (o: JobOutcome) => void; reject: (e: Error) => void; job: VideoJob };

  constructor(private readonly config: ExecutorConfig) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Starts (or restarts) the process and waits for its model session. */
  async start(): Promise<this> {
    const child = fork(fileURLToPath(import.meta.url), [WORKER_ARG], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child = child;
    this.describe = await new Promise<string>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(
          new Error(`segment worker process exited (${signal ?? `code ${code}`}) while loading the model`),
        );
      child.once('exit', onExit);
      child.once('message', (m: FromWorker) => {
        child.off('exit', onExit);
        if (m.type === 'ready') resolve(m.describe);
        else reject(new Error(m.type === 'fatal' ? m.message : `unexpected message ${m.type}`));
      });
      child.send({ type: 'init', config: this.config } satisfies ToWorker);
    });
    child.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (m.type === 'outcome') p.resolve(m.outcome);
      else p.reject(new Error(m.type === 'fatal' ? m.message : `unexpected message ${m.type}`));
    });
    child.on('exit', (code, signal) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      // The video may have crashed the process (a decoder or the runtime): it fails, the run goes on.
      const problem = `the worker process segmenting it died (${signal ?? `exit code ${code}`})`;
      writeFailureRecord(p.job.outDir, { path: p.job.path, file: p.job.path, problem });
      p.resolve({ key: p.job.key, notes: [], ok: false, file: p.job.path, problem });
    });
    return this;
  }

  async ensureRunning(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) await this.start();
  }

  async run(job: VideoJob): Promise<JobOutcome> {
    await this.ensureRunning();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, job };
      this.child.send({ type: 'video', job } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}

/** `workers` executors: the main process itself for one, else that many worker processes. */
async function openExecutors(workers: number, c: ExecutorConfig): Promise<Executor[]> {
  if (workers <= 1) return [await inProcess(c)];
  const started = await Promise.allSettled(
    Array.from({ length: workers }, () => new WorkerProcess(c).start()),
  );
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((w) => w.close()));
    throw failed.reason;
  }
  return ok;
}

export interface JobHandlers {
  /** Once the sessions are up: the model line. */
  ready(describe: string): void;
  begin(job: VideoJob, worker: { index: number; pid: number }): void;
  /** May throw (e.g. --strict): the other workers stop after their current video, then it is rethrown. */
  outcome(r: JobOutcome, worker: number): void;
}

/**
 * Runs `jobs` on `workers` executors, each taking the next job as soon as it is free; the
 * executors are opened here and closed before this returns or throws.
 */
export async function runVideoJobs(
  jobs: VideoJob[],
  workers: number,
  c: ExecutorConfig,
  on: JobHandlers,
): Promise<void> {
  if (!jobs.length) return;
  const executors = await openExecutors(Math.min(workers, jobs.length), c);
  on.ready(executors[0].describe);
  const queue = [...jobs];
  try {
    await Promise.all(
      executors.map(async (ex, worker) => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          await ex.ensureRunning();
          on.begin(job, { index: worker, pid: ex.pid });
          on.outcome(await ex.run(job), worker);
        }
      }),
    );
  } catch (e) {
    queue.length = 0;
    throw e;
  } finally {
    await Promise.all(executors.map((ex) => ex.close()));
  }
}

// The worker process: one session, jobs one at a time; it ends when the main process goes away.
if (process.argv[2] === WORKER_ARG && process.send) {
  let model: SegmentationModel | undefined;
  let settings: JobSettings;
  const send = (m: FromWorker) => process.send!(m);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        if (m.type === 'init') {
          settings = m.config.settings;
          model = await loadSegmentationModel({
            model: m.config.modelFile,
            ep: m.config.ep,
            threads: m.config.threads,
          });
          send({ type: 'ready', describe: model.describe });
        } else {
          send({ type: 'outcome', outcome: await runVideoJob(m.job, model!, settings) });
        }
      } catch (e) {
        send({ type: 'fatal', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    })();
  });
}
