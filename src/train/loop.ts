// The training loop of `unilvseg ort-train`: data -> train/optimizer graphs -> validation ->
// checkpoints, with the upstream semantics of the SSL and weak-supervision scripts
// (docs/upstream.md#temporal-masking-ssl, docs/upstream.md#weak-supervision).
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  bakeWeightsIntoModel,
  buildArtifactSet,
  loadArtifactSet,
  readCheckpoint,
  type ArtifactSet,
  type TrainingState,
} from '../artifacts/index.js';
import { loadCheckpoint } from '../artifacts/checkpoint-file.js';
import { defaultCacheDir } from '../data/cache.js';
import { openEchoNet, type EchoVideo } from '../data/echonet.js';
import { DataError, type BadItemHandler } from '../data/errors.js';
import { isEchoNetRoot, openSslVideos, type SslVideoSet } from '../data/unlabelled.js';
import { BatchLoader } from '../data/loader.js';
import type { Backend } from '../onnx/forms.js';
import { backendOf, resolveProvider } from '../onnx/runtime.js';
import { atomicWriteFile } from '../util/atomic.js';
import { FailureLog } from '../util/failures.js';
import { JsonlLog } from '../util/jsonl.js';
import { Progress } from '../util/progress.js';
import { writeCurves } from './curves.js';
import type { TrainOptions } from './options.js';
import type { Phase } from '../defaults.js';
import { addSums, NonFiniteLossError, PhaseRunner, type WeakSums } from './runner.js';
import { diceLossFromSums, dscFromCounts } from '../eval/metrics.js';
import { multiStepLr, validationPoints } from './schedule.js';
import { initialProgress, loadState, saveState, type RunProgress } from './state.js';
import {
  checkTransferOptions,
  lrScalesAt,
  transferredNames,
  transferWeights,
  UPSTREAM_TRANSFER,
} from './transfer.js';

export interface TrainSummary {
  out: string;
  steps: number;
  best: { step: number; metric: string; value: number } | null;
  test?: Record<string, number>;
  stoppedEarly?: string;
  /** Videos left out or skipped as bad (this run's and, on --resume, those found before), in failures.csv. */
  skipped: number;
}

export async function runTraining(o: TrainOptions): Promise<TrainSummary> {
  // Resolve the execution provider first: --ep cuda without the provider fails before any work.
  const { provider, reason } = await resolveProvider(o.ep);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const log = new JsonlLog(join(out, 'log.jsonl'));
  process.stderr.write(`ort-train: ONNX Runtime execution provider ${reason}\n`);
  const set = await artifactSetFor(o, out, backendOf(provider));
  const m = set.manifest;
  if (o.phase === 'ssl' && JSON.stringify(o.transfer) !== JSON.stringify(UPSTREAM_TRANSFER))
    throw new Error(
      '--pretrained_type, --reinit_head, --transfer_lr_scale and --head_warmup_steps are for --phase weak',
    );
  checkTransferOptions(m, o.transfer, o.checkpoint !== undefined);
  if (!(Number.isInteger(o.checkValEveryNEpoch) && o.checkValEveryNEpoch >= 1))
    throw new Error(`--check_val_every_n_epoch must be a whole number >= 1, got ${o.checkValEveryNEpoch}`);
  // Weights taken from --checkpoint (weak phase); their learning rate may differ from the rest's.
  const transferred =
    o.phase === 'weak' && o.checkpoint ? transferredNames(m, o.transfer) : new Set<string>();
  const paths = { last: join(out, 'last.safetensors'), best: join(out, 'best.safetensors') };
  const { state, progress } = await initialState(o, set, paths.last);
  log.write({
    event: 'start',
    phase: o.phase,
    provider,
    options: o,
    resumedAt: o.resume ? { epoch: state.epoch, step: state.step, batch: progress.batch } : null,
  });

  const failures = new FailureLog(join(out, 'failures.csv'), (f) => {
    log.write({ event: 'bad_video', ...f });
    process.stderr.write(`skipping bad video ${f.file}: ${f.problem}\n`);
  });
  // Found bad before a --resume: skipped silently by the loaders, still listed.
  for (const file of progress.badFiles)
    failures.add(file, 'found bad earlier in this run (see log.jsonl)', false);
  const onBadItem = (file: string, problem: string) => failures.add(file, problem);
  const split = (name: string, pct?: number) =>
    openEchoNet(o.dataPath, name, { pctTrain: pct, onBadItem, strict: o.strict });
  const common = {
    phase: o.phase,
    frames: o.frames,
    period: o.period,
    batchSize: o.batchSize,
    numWorkers: o.numWorkers,
    seed: o.seed,
    maskRatio: o.maskRatio,
    size: m.model.size,
    onBadItem,
    strict: o.strict,
    knownBad: progress.badFiles,
  };
  const sets = videoSets(o, split, onBadItem);
  log.write({ event: 'data', train: sets.train.source, val: sets.val.source });
  const trainLoader = new BatchLoader({
    ...common,
    videos: sets.train.videos,
    cacheDir: sets.train.cacheDir,
    train: true,
    shuffle: true,
    dropLast: true,
  });
  const valLoader = new BatchLoader({
    ...common,
    videos: sets.val.videos,
    cacheDir: sets.val.cacheDir,
    train: false,
    shuffle: false,
    dropLast: false,
  });
  const runner = await PhaseRunner.open(set, o.phase, { ep: provider, threads: o.threads });
  const baseLr = o.lr ?? m[o.phase].lr;
  const metricName = o.phase === 'weak' ? 'val_dsc' : 'val_loss';

  const save = async () => {
    progress.badFiles = [
      ...new Set([...progress.badFiles, ...trainLoader.badFiles(), ...valLoader.badFiles()]),
    ];
    await runner.sync(state);
    saveState(paths.last, m, state, progress);
  };
  const validate = async () => {
    const started = Date.now();
    const v = await evaluateSplit(runner, state, valLoader, progress.validations++, o.limitValBatches);
    const score = o.phase === 'weak' ? v.val_dsc : -v.val_loss;
    const improved = score > progress.best;
    if (improved) {
      progress.best = score;
      progress.bestStep = state.step;
      await runner.sync(state);
      saveState(paths.best, m, state, progress);
    }
    log.write({
      event: 'val',
      epoch: state.epoch,
      step: state.step,
      ...v,
      best: improved,
      seconds: (Date.now() - started) / 1000,
    });
    await save();
  };

  const total = o.maxSteps ?? o.epochs * trainLoader.batchCount(0);
  const bar = new Progress(`${o.phase} training`, total);
  let stopped: string | undefined;
  try {
    while (state.epoch < o.epochs && !stopped) {
      const batches = trainLoader.batchCount(state.epoch);
      if (batches === 0)
        throw new Error(
          `the training split has fewer than ${o.batchSize} usable samples: lower --batch_size`,
        );
      const valEpoch = (state.epoch + 1) % Math.max(1, o.checkValEveryNEpoch) === 0;
      const valAt = new Set(valEpoch ? validationPoints(batches, o.valCheckInterval) : []);
      const lr =
        o.phase === 'weak'
          ? multiStepLr(baseLr, state.epoch, o.milestones ?? m.weak.milestones, m.weak.gamma)
          : baseLr;
      for await (const batch of trainLoader.epoch(state.epoch, progress.batch)) {
        const t0 = Date.now();
        const r = await runner.step(
          state,
          batch,
          lr,
          o.microBatch,
          lrScalesAt(transferred, o.transfer, state.step),
        );
        const k = progress.batch++;
        const rec: Record<string, unknown> = {
          event: 'step',
          epoch: state.epoch,
          step: state.step,
          loss: r.loss,
          lr,
          seconds: (Date.now() - t0) / 1000,
          // what this step moved between host and GPU (params and optimizer state stay there)
          ...(runner.resident.onGpu
            ? { bytesToDevice: runner.resident.traffic.toDevice, bytesToHost: runner.resident.traffic.toHost }
            : {}),
        };
        if (r.sums) rec.dsc = dscFromCounts(r.sums.tp, r.sums.fp, r.sums.fn);
        log.write(rec);
        bar.tick(1, `loss ${r.loss.toFixed(4)}`);
        if (valAt.has(k)) await validate();
        else if (o.saveEvery > 0 && state.step % o.saveEvery === 0) await save();
        if (o.maxSteps !== undefined && state.step >= o.maxSteps) {
          stopped = `reached --max_steps ${o.maxSteps}`;
          break;
        }
      }
      if (!stopped) {
        state.epoch++;
        progress.batch = 0;
      }
      await save();
    }
  } catch (e) {
    // last.safetensors still holds the last good state
    if (e instanceof NonFiniteLossError) log.write({ event: 'stopped', reason: e.message, step: e.step });
    throw e;
  } finally {
    bar.stop();
    await Promise.all([trainLoader.close(), valLoader.close()]);
  }

  if (progress.bestStep < 0) await validate(); // e.g. runs shorter than one validation interval
  const best = readCheckpoint(paths.best, m);
  bakeWeightsIntoModel(set.dir, best.params);
  const summary: TrainSummary = {
    out,
    steps: state.step,
    best: {
      step: progress.bestStep,
      metric: metricName,
      value: o.phase === 'weak' ? progress.best : -progress.best,
    },
    stoppedEarly: stopped,
    skipped: 0,
  };
  if (o.phase === 'weak' && o.test) {
    const testLoader = new BatchLoader({
      ...common,
      videos: split('test'),
      train: false,
      shuffle: false,
      dropLast: false,
    });
    try {
      const t = await evaluateSplit(runner, best, testLoader, 0, 0);
      summary.test = { test_loss: t.val_loss, test_dsc: t.val_dsc };
    } finally {
      await testLoader.close();
    }
    log.write({ event: 'test', ...summary.test, checkpoint: paths.best });
  }
  await runner.release();
  failures.write();
  summary.skipped = failures.items.length;
  atomicWriteFile(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeCurves(join(out, 'curves.svg'), join(out, 'log.jsonl'));
  log.write({ event: 'end', ...summary });
  return summary;
}

/**
 * The training and validation videos: weak supervision reads an EchoNet root's traced videos;
 * SSL also takes a root without tracings, a folder of videos or a list (src/data/unlabelled.ts).
 */
function videoSets(
  o: TrainOptions,
  split: (name: string, pct?: number) => EchoVideo[],
  onBadItem: BadItemHandler,
): { train: SslVideoSet; val: SslVideoSet } {
  if (o.phase === 'ssl')
    return openSslVideos(o.dataPath, o.valData, {
      pctTrain: o.pctTrain,
      onBadItem,
      strict: o.strict,
      seed: o.seed,
    });
  if (o.valData !== undefined)
    throw new Error('--val_data is for --phase ssl (weak validation needs tracings: the VAL split)');
  if (!isEchoNetRoot(o.dataPath))
    throw new DataError(
      o.dataPath,
      'weak supervision needs an EchoNet-style folder (FileList.csv, VolumeTracings.csv, Videos/); a folder or list of videos without tracings is for --phase ssl',
    );
  const cacheDir = defaultCacheDir(o.dataPath);
  const at = (name: string, videos: EchoVideo[]) => ({
    videos,
    cacheDir,
    source: `${o.dataPath} (split ${name})`,
  });
  return { train: at('train', split('train', o.pctTrain)), val: at('val', split('val')) };
}

/** Pooled loss (and DSC for weak) over a whole split, as upstream's validation_epoch_end. */
async function evaluateSplit(
  runner: PhaseRunner,
  state: TrainingState,
  loader: BatchLoader<Phase>,
  epochKey: number,
  limit: number,
) {
  let sums: WeakSums | undefined;
  let lossSum = 0;
  let samples = 0;
  let n = 0;
  for await (const batch of loader.epoch(epochKey)) {
    const r = await runner.evalBatch(state, batch);
    lossSum += r.loss * batch.items.length;
    samples += batch.items.length;
    if (r.sums) sums = sums ? addSums([sums, r.sums]) : r.sums;
    if (limit > 0 && ++n >= limit) break;
  }
  if (samples === 0) throw new Error('the validation split is empty');
  // val_samples: how many samples the scores pool (fewer than the split with --limit_val_batches).
  if (!sums) return { val_loss: lossSum / samples, val_dsc: NaN, val_samples: samples };
  const pooledLoss = Number.isFinite(sums.intersection)
    ? diceLossFromSums(sums.intersection, sums.cardinality, sums.positives)
    : lossSum / samples;
  return { val_loss: pooledLoss, val_dsc: dscFromCounts(sums.tp, sums.fp, sums.fn), val_samples: samples };
}

async function artifactSetFor(o: TrainOptions, out: string, backend: Backend): Promise<ArtifactSet> {
  const dir = join(out, 'artifacts');
  if (existsSync(join(dir, 'manifest.json'))) return checkedSet(loadArtifactSet(dir), o, backend);
  if (o.artifacts) {
    checkedSet(loadArtifactSet(o.artifacts), o, backend);
    cpSync(resolve(o.artifacts), dir, { recursive: true });
    return loadArtifactSet(dir);
  }
  return buildArtifactSet({
    encoder: o.encoder,
    frames: o.frames,
    period: o.period,
    maskRatio: o.maskRatio,
    mean: o.mean,
    std: o.std,
    seed: o.seed,
    widthMult: o.widthMult,
    size: o.size,
    backend,
    out: dir,
    command: 'ort-train',
  });
}

function checkedSet(set: ArtifactSet, o: TrainOptions, backend: Backend): ArtifactSet {
  // CPU forms use ops the WebGPU provider lacks (MaxPool's Indices); WebGPU forms run anywhere.
  const built = set.manifest.backend ?? 'cpu';
  if (backend === 'webgpu' && built !== 'webgpu')
    throw new Error(
      `artifact set ${set.dir} holds graphs in the CPU's forms, which the WebGPU provider cannot run (MaxPool's Indices output): rebuild it with \`unilvseg build-graph ... --backend webgpu\` or start a new --out`,
    );
  const md = set.manifest.model;
  const want = { encoder: o.encoder, frames: o.frames, widthMult: o.widthMult, size: o.size };
  const have = { encoder: md.encoder, frames: md.frames, widthMult: md.widthMult, size: md.size };
  if (JSON.stringify(want) !== JSON.stringify(have))
    throw new Error(
      `artifact set ${set.dir} was built for ${JSON.stringify(have)}, this run asks for ${JSON.stringify(want)}`,
    );
  return set;
}

async function initialState(
  o: TrainOptions,
  set: ArtifactSet,
  lastPath: string,
): Promise<{ state: TrainingState; progress: RunProgress }> {
  if (o.resume) return loadState(lastPath, set.manifest);
  if (o.checkpoint) {
    // Any accepted format (our safetensors, a Lightning .ckpt, a torch.save state dict).
    // An encoder's released weights ({'model': ...}, UniFormer's ImageNet checkpoints) are what
    // upstream's --pretrained_type encoder loads; they can initialise nothing else.
    const from = await loadCheckpoint(o.checkpoint, set.manifest, {
      optimizer: o.phase === 'ssl',
      encoderOnly: o.phase === 'weak' && o.transfer.pretrainedType === 'encoder',
    });
    for (const note of from.notes) process.stderr.write(`ort-train: ${o.checkpoint}: ${note}\n`);
    // SSL: upstream's --checkpoint resumes (optimizer state, step, epoch); weak: it only
    // initialises the weights (every one with upstream's default pl_full, the encoder's with
    // --pretrained_type encoder: docs/upstream.md#from-ssl-to-weak-supervision), the rest keep the
    // set's initial values; training starts at step 0 with fresh optimizer state.
    if (o.phase === 'ssl') {
      const { params, optimizer, step, epoch, metadata } = from;
      return { state: { params, optimizer, step, epoch, metadata }, progress: initialProgress() };
    }
    const initial = readCheckpoint(set.files.checkpoint, set.manifest).params;
    const params = transferWeights(initial, from.params, transferredNames(set.manifest, o.transfer));
    return {
      state: { params, optimizer: new Map(), step: 0, epoch: 0, metadata: {} },
      progress: initialProgress(),
    };
  }
  const init = readCheckpoint(set.files.checkpoint, set.manifest);
  return {
    state: { ...init, optimizer: new Map(), step: 0, epoch: 0, metadata: {} },
    progress: initialProgress(),
  };
}
