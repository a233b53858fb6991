// Runs the pool study's pieces through the library: per look a labelled synthetic set and a
// disjoint unlabelled pool, one artifact set per seed, the SSL runs (on a folder, a list of the
// pool's first videos, or the labelled videos' own frames) and the weak cells. Every piece is
// skipped when its output exists and an interrupted run resumes from its last.safetensors, so a
// killed study continues where it stopped.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { openEchoNet } from '../../src/data/echonet.js';
import { generateDataset } from '../../src/data/synth/dataset.js';
import type { SynthLook } from '../../src/data/synth/params.js';
import { listBatchInput } from '../../src/infer/batch/inputs.js';
import { runTraining } from '../../src/train/loop.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { atomicWriteFile } from '../../src/util/atomic.js';
import { JsonlLog, readJsonl } from '../../src/util/jsonl.js';
import { schedule } from './plan.js';
import { scaledMilestones, type PoolCell, type SslJob } from './pool-plan.js';
import { setDir, testOverlaps } from './run.js';
export { ensureSet } from './run.js';

export interface PoolStudySettings {
  work: string;
  /** folder of results.jsonl and ssl.jsonl (committed: the report is made from them) */
  results: string;
  /** labelled set: synth --videos, --seed (about 75 % TRAIN, 12.5 % VAL, 12.5 % TEST) */
  labelledVideos: number;
  dataSeed: number;
  /** unlabelled pool: synth --videos (the largest pool size), --seed */
  poolVideos: number;
  poolSeed: number;
  encoder: string;
  widthMult: number;
  size: number;
  frames: number;
  batchSize: number;
  lr: number;
  sslSteps: number;
  sslValidations: number;
  weakSteps: number;
  weakValidations: number;
  threads: number;
  numWorkers: number;
}

/** One finished weak cell, as a line of results.jsonl. */
export interface PoolCellResult {
  key: string;
  look: SynthLook;
  labelled: number;
  init: string;
  seed: number;
  ssl: string | null;
  steps: number;
  epochs: number;
  milestones: number[];
  bestStep: number;
  valDsc: number;
  /** pooled test DSC at logit > 0, best weights by val DSC */
  testDsc: number;
  /** per test frame (ED and ES of every test video): [intersection, union] */
  overlaps: [number, number][];
  /** learning curve: [step, val DSC] at every validation */
  curve: [number, number][];
  /** [step, mean training loss since the previous validation] */
  loss: [number, number][];
  model: { encoder: string; widthMult: number; size: number; frames: number; batchSize: number; lr: number };
  host: HostInfo;
  /** wall seconds on a shared machine: bookkeeping, not a speed figure */
  seconds: number;
}

/** One finished SSL run, as a line of ssl.jsonl. */
export interface SslResult {
  key: string;
  look: SynthLook;
  seed: number;
  source: string;
  videos: number;
  steps: number;
  bestStep: number;
  bestValLoss: number;
  curve: [number, number][];
  host: HostInfo;
  seconds: number;
}

export interface HostInfo {
  cpu: string;
  avx512: boolean;
  threads: number;
  node: string;
}

export function hostInfo(threads: number): HostInfo {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    // not Linux: no flags
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    avx512: / avx512f /.test(`${flags} `),
    threads,
    node: process.version,
  };
}

const lookDir = (s: PoolStudySettings, look: SynthLook) => join(s.work, `data-${look}`);
export const labelledRoot = (s: PoolStudySettings, look: SynthLook) => join(lookDir(s, look), 'labelled');
const poolRoot = (s: PoolStudySettings, look: SynthLook) => join(lookDir(s, look), 'pool');
export const sslBest = (s: PoolStudySettings, job: SslJob) =>
  join(s.work, 'ssl', `${job.key}-best.safetensors`);
export const resultsFile = (s: PoolStudySettings) => join(s.results, 'results.jsonl');
export const sslResultsFile = (s: PoolStudySettings) => join(s.results, 'ssl.jsonl');

export function readPoolResults(s: PoolStudySettings): PoolCellResult[] {
  return existsSync(resultsFile(s)) ? (readJsonl(resultsFile(s)) as unknown as PoolCellResult[]) : [];
}
export function readSslResults(s: PoolStudySettings): SslResult[] {
  return existsSync(sslResultsFile(s)) ? (readJsonl(sslResultsFile(s)) as unknown as SslResult[]) : [];
}

async function synthOnce(out: string, videos: number, seed: number, look: SynthLook) {
  if (existsSync(join(out, 'FileList.csv'))) return; // written last
  await generateDataset({ out, videos, seed, look, framesMin: 64, framesMax: 96 });
}

/** The look's labelled set (synth; skipped when it exists). */
export async function ensureLabelled(s: PoolStudySettings, look: SynthLook): Promise<void> {
  await synthOnce(labelledRoot(s, look), s.labelledVideos, s.dataSeed, look);
}

/**
 * The look's unlabelled pool and the lists the SSL runs read: the pool's first n videos (by name)
 * for each smaller pool size. The pool must share no video name with the labelled set (different
 * generator seeds; checked).
 */
async function ensurePool(s: PoolStudySettings, look: SynthLook, pools: number[]): Promise<void> {
  await ensureLabelled(s, look);
  await synthOnce(poolRoot(s, look), s.poolVideos, s.poolSeed, look);
  const labelled = new Set(openEchoNet(labelledRoot(s, look), 'all').map((v) => v.fileName));
  const pool = listBatchInput(join(poolRoot(s, look), 'Videos')).videos;
  const shared = pool.filter((v) => labelled.has(`${v.key}.avi`));
  if (shared.length)
    throw new Error(`pool and labelled set share ${shared.length} video(s), e.g. ${shared[0].path}`);
  for (const n of pools.filter((p) => p > 0 && p < pool.length)) {
    const list = poolList(s, look, n);
    if (!existsSync(list))
      atomicWriteFile(
        list,
        pool
          .slice(0, n)
          .map((v) => resolve(v.path))
          .join('\n') + '\n',
      );
  }
}

const poolList = (s: PoolStudySettings, look: SynthLook, n: number) =>
  join(lookDir(s, look), `pool-${n}.txt`);

/** The labelled training videos of a cell: a seeded subset (--pct_train), the same for every init and seed. */
function labelledFraction(s: PoolStudySettings, look: SynthLook, labelled: number): number {
  const nTrain = openEchoNet(labelledRoot(s, look), 'train').length;
  const fraction = labelled / nTrain;
  const kept = openEchoNet(labelledRoot(s, look), 'train', { pctTrain: fraction }).length;
  if (kept !== labelled) throw new Error(`--pct_train ${fraction} keeps ${kept} videos, not ${labelled}`);
  return fraction;
}

/** What an SSL job trains on: the pool folder, a list of its first videos, or the labelled videos. */
function sslData(s: PoolStudySettings, job: SslJob): { path: string; videos: number } {
  if ('pool' in job.source) {
    const n = job.source.pool;
    return n >= s.poolVideos
      ? { path: join(poolRoot(s, job.look), 'Videos'), videos: s.poolVideos }
      : { path: poolList(s, job.look, n), videos: n };
  }
  const labelled = job.labelled!;
  const root = labelledRoot(s, job.look);
  const list = join(lookDir(s, job.look), `own-${labelled}.txt`);
  if (!existsSync(list)) {
    const videos = openEchoNet(root, 'train', { pctTrain: labelledFraction(s, job.look, labelled) });
    atomicWriteFile(list, videos.map((v) => resolve(v.path)).join('\n') + '\n');
  }
  return { path: list, videos: labelled };
}

/** The model and recipe of every run, as results.jsonl records them. */
const modelOf = (s: PoolStudySettings) => ({
  encoder: s.encoder,
  widthMult: s.widthMult,
  size: s.size,
  frames: s.frames,
  batchSize: s.batchSize,
  lr: s.lr,
});

function studyOptions(s: PoolStudySettings, seed: number) {
  return {
    ...modelOf(s),
    artifacts: setDir(s, seed),
    seed,
    threads: s.threads,
    numWorkers: s.numWorkers,
  };
}

/**
 * A run's validations from its log events as [step, value], and the mean training loss of the
 * steps since the previous validation. A resumed run repeats the steps and validations after its
 * last checkpoint (with the same values): each step and validation counts once, the last logged.
 */
export function runCurves(
  events: Record<string, unknown>[],
  metric: 'val_dsc' | 'val_loss',
): { curve: [number, number][]; loss: [number, number][] } {
  let vals = new Map<number, number>();
  let steps = new Map<number, number>();
  for (const e of events) {
    if (e.event === 'start' && e.resumedAt === null) [vals, steps] = [new Map(), new Map()];
    if (e.event === 'step') steps.set(Number(e.step), Number(e.loss));
    if (e.event === 'val') vals.set(Number(e.step), Number(e[metric]));
  }
  const curve = [...vals].sort((a, b) => a[0] - b[0]);
  const loss = curve.flatMap(([step], i): [number, number][] => {
    const since = i ? curve[i - 1][0] : -Infinity;
    const window = [...steps].filter(([s]) => s > since && s <= step).map(([, l]) => l);
    return window.length ? [[step, window.reduce((a, b) => a + b, 0) / window.length]] : [];
  });
  return { curve, loss };
}

const curves = (out: string, metric: 'val_dsc' | 'val_loss') =>
  runCurves(readJsonl(join(out, 'log.jsonl')), metric);

/** One SSL run (resumed if interrupted), its best weights copied to sslBest, a line in ssl.jsonl. */
export async function ensureSsl(
  s: PoolStudySettings,
  job: SslJob,
  pools: number[],
  log: JsonlLog,
): Promise<void> {
  if (existsSync(sslBest(s, job))) return;
  if ('pool' in job.source) await ensurePool(s, job.look, pools);
  const started = Date.now();
  const out = join(s.work, 'ssl', job.key);
  const data = sslData(s, job);
  const batches = Math.floor(data.videos / s.batchSize);
  const plan = schedule(batches, s.sslSteps, s.sslValidations);
  const summary = await runTraining({
    ...defaultTrainOptions('ssl'),
    ...studyOptions(s, job.seed),
    dataPath: data.path,
    valData: labelledRoot(s, job.look),
    out,
    epochs: plan.epochs + plan.checkValEveryNEpoch, // maxSteps ends it
    maxSteps: s.sslSteps,
    valCheckInterval: plan.valCheckInterval,
    checkValEveryNEpoch: plan.checkValEveryNEpoch,
    resume: existsSync(join(out, 'last.safetensors')),
  });
  const result: SslResult = {
    key: job.key,
    look: job.look,
    seed: job.seed,
    source: 'pool' in job.source ? `pool of ${job.source.pool}` : `the ${job.labelled} labelled videos`,
    videos: data.videos,
    steps: summary.steps,
    bestStep: summary.best!.step,
    bestValLoss: summary.best!.value,
    curve: curves(out, 'val_loss').curve,
    host: hostInfo(s.threads),
    seconds: (Date.now() - started) / 1000,
  };
  mkdirSync(s.results, { recursive: true });
  new JsonlLog(sslResultsFile(s)).write({ ...result });
  copyFileSync(join(out, 'best.safetensors'), sslBest(s, job));
  log.write({ event: 'ssl', key: job.key, best: summary.best });
}

/** Runs one weak cell (resuming an interrupted one), scores its test frames, appends the result. */
export async function runPoolCell(s: PoolStudySettings, cell: PoolCell): Promise<PoolCellResult> {
  const started = Date.now();
  const out = join(s.work, 'runs', cell.key);
  const root = labelledRoot(s, cell.look);
  const plan = schedule(Math.floor((2 * cell.labelled) / s.batchSize), s.weakSteps, s.weakValidations);
  const milestones = scaledMilestones(plan.epochs);
  const finished = existsSync(join(out, 'summary.json'));
  const summary = finished
    ? JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
    : await runTraining({
        ...defaultTrainOptions('weak'),
        ...studyOptions(s, cell.seed),
        dataPath: root,
        out,
        epochs: plan.epochs,
        valCheckInterval: plan.valCheckInterval,
        checkValEveryNEpoch: plan.checkValEveryNEpoch,
        milestones,
        pctTrain: labelledFraction(s, cell.look, cell.labelled),
        checkpoint: cell.ssl ? sslBest(s, cell.ssl) : undefined,
        transfer: cell.init.transfer,
        resume: existsSync(join(out, 'last.safetensors')),
        test: true,
      });
  const overlaps = await testOverlaps(s, root, out, cell.seed);
  const { curve, loss } = curves(out, 'val_dsc');
  const result: PoolCellResult = {
    key: cell.key,
    look: cell.look,
    labelled: cell.labelled,
    init: cell.init.name,
    seed: cell.seed,
    ssl: cell.ssl?.key ?? null,
    steps: summary.steps,
    epochs: plan.epochs,
    milestones,
    bestStep: summary.best.step,
    valDsc: summary.best.value,
    testDsc: summary.test.test_dsc,
    overlaps: overlaps.map((o) => [o.inter, o.union]),
    curve,
    loss,
    model: modelOf(s),
    host: hostInfo(s.threads),
    seconds: (Date.now() - started) / 1000,
  };
  mkdirSync(s.results, { recursive: true });
  new JsonlLog(resultsFile(s)).write({ ...result });
  return result;
}
