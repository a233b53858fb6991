// Runs the SSL transfer study's pieces through the library: the synthetic dataset, one artifact
// set and one SSL pre-training per seed, and each weak-supervision cell, whose test-split frames
// are scored one by one for the bootstrap. Every piece is skipped when its output exists, so a
// killed study continues where it stopped (an interrupted run resumes from its last.safetensors).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildArtifactSet, loadArtifactSet, readCheckpoint } from '../../src/artifacts/index.js';
import { openEchoNet } from '../../src/data/echonet.js';
import { BatchLoader } from '../../src/data/loader.js';
import { generateDataset } from '../../src/data/synth/dataset.js';
import type { SynthLook } from '../../src/data/synth/params.js';
import { overlap, type Overlap } from '../../src/eval/metrics.js';
import { runTraining } from '../../src/train/loop.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { PhaseRunner } from '../../src/train/runner.js';
import { UPSTREAM_TRANSFER } from '../../src/train/transfer.js';
import { JsonlLog, readJsonl } from '../../src/util/jsonl.js';
import { schedule, type WeakCell } from './plan.js';

export interface StudySettings {
  work: string;
  /** folder of results.jsonl (committed: the report is made from it) */
  results: string;
  videos: number;
  dataSeed: number;
  /** the synthetic generator's look (synth --look): 'echonet' or 'hard' */
  look: SynthLook;
  encoder: string;
  widthMult: number;
  frames: number;
  batchSize: number;
  lr: number;
  /** weak runs: about this many optimizer steps and validations */
  steps: number;
  validations: number;
  threads: number;
  numWorkers: number;
}

/** One finished weak run, as a line of results.jsonl. */
export interface CellResult {
  key: string;
  fraction: number;
  init: string;
  seed: number;
  /** labelled training videos */
  labelled: number;
  steps: number;
  bestStep: number;
  valDsc: number;
  /** pooled test DSC at sigmoid > 0.5, as the training loop scores it */
  testDsc: number;
  /** per test frame (ED and ES of every test video): [intersection, union] pixel counts */
  overlaps: [number, number][];
  seconds: number;
}

export const resultsFile = (s: StudySettings) => join(s.results, 'results.jsonl');

export function readResults(s: StudySettings): CellResult[] {
  return existsSync(resultsFile(s)) ? (readJsonl(resultsFile(s)) as unknown as CellResult[]) : [];
}

const dataDir = (s: StudySettings) =>
  join(s.work, `data-${s.videos}-${s.dataSeed}${s.look === 'echonet' ? '' : `-${s.look}`}`);
export const setDir = (s: Pick<StudySettings, 'work'>, seed: number) => join(s.work, 'sets', `seed${seed}`);
const sslDir = (s: StudySettings, seed: number) => join(s.work, 'ssl', `seed${seed}`);
export const sslCheckpoint = (s: StudySettings, seed: number, epochs: number) =>
  join(s.work, 'ssl', `seed${seed}-best-${epochs}ep.safetensors`);

export async function ensureData(s: StudySettings): Promise<string> {
  const dir = dataDir(s);
  const done = join(dir, 'FileList.csv'); // written last
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    await generateDataset({
      out: dir,
      videos: s.videos,
      seed: s.dataSeed,
      framesMin: 64,
      framesMax: 96,
      look: s.look,
    });
  }
  return dir;
}

/** One artifact set per seed: the seed draws the initial weights that random-init runs start from. */
export async function ensureSet(
  s: Pick<StudySettings, 'work' | 'encoder' | 'frames' | 'widthMult'> & { size?: number },
  seed: number,
): Promise<string> {
  const dir = setDir(s, seed);
  if (!existsSync(join(dir, 'manifest.json')))
    await buildArtifactSet({
      encoder: s.encoder,
      frames: s.frames,
      period: 1,
      widthMult: s.widthMult,
      size: s.size,
      seed,
      out: dir,
    });
  return dir;
}

/** What the study sets in every run, SSL or weak. */
function studyOptions(s: StudySettings, data: string, seed: number) {
  return {
    dataPath: data,
    artifacts: setDir(s, seed),
    encoder: s.encoder,
    widthMult: s.widthMult,
    frames: s.frames,
    batchSize: s.batchSize,
    lr: s.lr,
    seed,
    threads: s.threads,
    numWorkers: s.numWorkers,
  };
}

/**
 * One SSL run per seed, on every training video, taken to each length in turn (resumed from the
 * shorter one, so the lengths share their first epochs); the best weights (by val loss) at each
 * length are kept.
 */
export async function ensureSsl(
  s: StudySettings,
  data: string,
  seed: number,
  lengths: number[],
  log: JsonlLog,
) {
  const out = sslDir(s, seed);
  for (const epochs of [...lengths].sort((a, b) => a - b)) {
    const target = sslCheckpoint(s, seed, epochs);
    if (existsSync(target)) continue;
    const started = Date.now();
    const summary = await runTraining({
      ...defaultTrainOptions('ssl'),
      ...studyOptions(s, data, seed),
      out,
      epochs,
      valCheckInterval: 1,
      resume: existsSync(join(out, 'last.safetensors')),
      test: false,
    });
    copyFileSync(join(out, 'best.safetensors'), target);
    log.write({ event: 'ssl', seed, epochs, best: summary.best, seconds: (Date.now() - started) / 1000 });
  }
}

/** Runs one weak cell (resuming an interrupted one), scores its test frames, appends the result. */
export async function runCell(s: StudySettings, data: string, cell: WeakCell): Promise<CellResult> {
  const started = Date.now();
  const out = join(s.work, 'runs', cell.key);
  const nTrain = openEchoNet(data, 'train').length;
  // as --pct_train keeps them: round_half_up(n * fraction)
  const labelled = Math.floor(nTrain * cell.fraction + 0.5);
  const plan = schedule(Math.floor((2 * labelled) / s.batchSize), s.steps, s.validations);
  const finished = existsSync(join(out, 'summary.json'));
  const summary = finished
    ? JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
    : await runTraining({
        ...defaultTrainOptions('weak'),
        ...studyOptions(s, data, cell.seed),
        out,
        epochs: plan.epochs,
        valCheckInterval: plan.valCheckInterval,
        checkValEveryNEpoch: plan.checkValEveryNEpoch,
        pctTrain: cell.fraction < 1 ? cell.fraction : undefined,
        checkpoint: cell.init.sslEpochs ? sslCheckpoint(s, cell.seed, cell.init.sslEpochs) : undefined,
        transfer: cell.init.transfer ?? UPSTREAM_TRANSFER,
        resume: existsSync(join(out, 'last.safetensors')),
        test: true,
      });
  const overlaps = await testOverlaps(s, data, out, cell.seed);
  const result: CellResult = {
    key: cell.key,
    fraction: cell.fraction,
    init: cell.init.name,
    seed: cell.seed,
    labelled,
    steps: summary.steps,
    bestStep: summary.best.step,
    valDsc: summary.best.value,
    testDsc: summary.test.test_dsc,
    overlaps: overlaps.map((o) => [o.inter, o.union]),
    seconds: (Date.now() - started) / 1000,
  };
  mkdirSync(s.results, { recursive: true });
  new JsonlLog(resultsFile(s)).write({ ...result });
  return result;
}

/**
 * Runs the weak evaluation graph with the given weights over a split's traced frames (centred
 * clips, no augmentation) and hands each frame's logits, mask and traced frame's pixels to `visit`.
 */
export async function forEachTracedFrame(
  s: Pick<StudySettings, 'threads' | 'frames' | 'batchSize'>,
  data: string,
  split: 'val' | 'test',
  setDir: string,
  weights: string,
  seed: number,
  visit: (logits: Float32Array, mask: Float32Array, rgb: Uint8Array) => void,
): Promise<void> {
  const set = loadArtifactSet(setDir);
  const state = readCheckpoint(weights, set.manifest);
  const runner = await PhaseRunner.open(set, 'weak', { threads: s.threads });
  const loader = new BatchLoader({
    videos: openEchoNet(data, split),
    phase: 'weak',
    frames: s.frames,
    period: 1,
    batchSize: s.batchSize,
    train: false,
    shuffle: false,
    dropLast: false,
    numWorkers: 0,
    seed,
    size: set.manifest.model.size,
  });
  const px = set.manifest.model.size ** 2;
  try {
    for await (const batch of loader.epoch(0)) {
      const { logits } = await runner.evalBatch(state, batch);
      for (let n = 0; n < batch.items.length; n++) {
        const t = n * s.frames + Number(batch.trace_index[n]);
        visit(
          logits!.subarray(n * px, (n + 1) * px),
          batch.trace_mask.subarray(n * px, (n + 1) * px),
          batch.frames.subarray(t * px * 3, (t + 1) * px * 3),
        );
      }
    }
  } finally {
    await loader.close();
    await runner.release();
  }
}

/** Intersection and union of every test frame's prediction (logit > 0) with its tracing, best weights. */
export async function testOverlaps(
  s: Pick<StudySettings, 'threads' | 'frames' | 'batchSize'>,
  data: string,
  out: string,
  seed: number,
): Promise<Overlap[]> {
  const overlaps: Overlap[] = [];
  await forEachTracedFrame(
    s,
    data,
    'test',
    join(out, 'artifacts'),
    join(out, 'best.safetensors'),
    seed,
    (l, m) => overlaps.push(overlap(l, m)),
  );
  return overlaps;
}
