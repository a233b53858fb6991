// `unilvseg segment-batch`: one shard of a video list segmented into <output>/videos/<key>/, videos
// already complete skipped (so a re-run after a crash or pre-emption does only what is missing),
// bad videos reported and skipped, K sessions in parallel. See layout.ts for the files.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { ExecutionProvider } from '../../onnx/runtime.js';
import { atomicWriteFile } from '../../util/atomic.js';
import { FailureLog } from '../../util/failures.js';
import { JsonlLog } from '../../util/jsonl.js';
import { Progress } from '../../util/progress.js';
import { locateModel, type ModelSource } from '../model.js';
import { runVideoJobs } from './executor.js';
import { listBatchInput } from './inputs.js';
import {
  readShardManifests,
  SHARDS_DIR,
  videoDir,
  videoState,
  type OutputSettings,
  type ShardManifest,
} from './layout.js';
import { chooseShard, shardItems, shardTag, type Shard } from './shard.js';
import type { VideoJob } from './video-job.js';

export interface SegmentBatchOptions {
  input: string;
  output: string;
  /** FileList.csv input: only this split. */
  split?: string;
  model: Omit<ModelSource, 'ep' | 'threads'>;
  ep?: ExecutionProvider;
  /** `--shard i/n`; otherwise from the scheduler's environment (see chooseShard). */
  shard?: string;
  shards?: number;
  env?: NodeJS.ProcessEnv;
  /** ONNX Runtime sessions in parallel (default 1). */
  workers?: number;
  /** Intra-op threads per session (default: the cores divided among the workers). */
  threads?: number;
  overlay?: boolean;
  overlap?: boolean;
  batchSize?: number;
  /** false: `--no-crop`. */
  crop?: boolean;
  pixelSpacingMm?: { x: number; y: number };
  /** Stop at the first bad video. */
  strict?: boolean;
  progress?: boolean;
  /** Lines for the user (the command prints them on stderr). */
  say?: (line: string) => void;
}

export interface SegmentBatchResult {
  manifest: ShardManifest;
  files: { manifest: string; log: string; failures: string };
  failures: { file: string; problem: string }[];
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Shards writing into one folder must make the same outputs, or results.csv would mix models. */
function checkSameSettings(out: string, mine: OutputSettings): void {
  for (const { file, manifest } of readShardManifests(out)) {
    const theirs = manifest.settings;
    const diff = [
      theirs.model.sha256 !== mine.model.sha256 &&
        `model ${theirs.model.describe} (sha256 ${theirs.model.sha256.slice(0, 12)}) vs ${mine.model.describe} (${mine.model.sha256.slice(0, 12)})`,
      theirs.overlap !== mine.overlap && `--overlap ${theirs.overlap} vs ${mine.overlap}`,
      theirs.overlay !== mine.overlay && `--overlay ${theirs.overlay} vs ${mine.overlay}`,
      theirs.crop !== mine.crop && `sector crop ${theirs.crop} vs ${mine.crop}`,
      JSON.stringify(theirs.pixelSpacingMm) !== JSON.stringify(mine.pixelSpacingMm) &&
        `--pixel_spacing_mm ${JSON.stringify(theirs.pixelSpacingMm)} vs ${JSON.stringify(mine.pixelSpacingMm)}`,
    ].filter(Boolean);
    if (diff.length)
      throw new Error(
        `${out} holds results made with other settings (${file}): ${diff.join('; ')}. Use another --output, or remove ${out} to start over`,
      );
  }
}

/**
 * A shard of another partition of this folder that has not finished may still be running: this
 * shard would then segment some of its videos at the same time (a one-task resubmission that lost
 * its shard count used to run as shard 0 of 1 over the whole list).
 */
function checkNoOtherPartitionRunning(out: string, mine: Shard): void {
  for (const { file, manifest } of readShardManifests(out)) {
    if (manifest.shard.count === mine.count || manifest.result !== null) continue;
    throw new Error(
      `${file}: ${shardTag(manifest.shard)} started ${manifest.started} on ${manifest.host} and has not finished; if it is still running, ` +
        `this run (${shardTag(mine)}) would segment some of its videos at the same time. Run with the same number of shards ` +
        `(${manifest.shard.count}; under Slurm, resubmit the same script with the same arguments, only --array changed), ` +
        `or, if that shard is not running any more, remove ${file}`,
    );
  }
}

export async function runSegmentBatch(o: SegmentBatchOptions): Promise<SegmentBatchResult> {
  const started = Date.now();
  const say = o.say ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = resolve(o.output);
  const input = listBatchInput(o.input, { split: o.split, exclude: [out] });
  if (!input.videos.length)
    throw new Error(`no videos in ${input.input}${o.split ? ` (split ${o.split})` : ''}`);
  const { shard, from } = chooseShard(o.shard, o.shards, o.env ?? process.env);
  checkNoOtherPartitionRunning(out, shard);
  const tag = shardTag(shard);
  const mine = shardItems(input.videos, shard);
  const overlay = !!o.overlay;
  const workers = Math.max(1, Math.min(o.workers ?? 1, mine.length));
  const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / workers));

  const located = await locateModel(o.model);
  try {
    const settings: OutputSettings = {
      model: { sha256: sha256(located.file), describe: located.origin },
      overlap: !!o.overlap,
      overlay,
      crop: o.crop !== false,
      pixelSpacingMm: o.pixelSpacingMm ?? null,
    };
    checkSameSettings(out, settings);
    const shardsDir = join(out, SHARDS_DIR);
    const files = {
      manifest: join(shardsDir, `${tag}.json`),
      log: join(shardsDir, `${tag}.jsonl`),
      failures: join(shardsDir, `${tag}.failures.csv`),
    };
    // Temporary files of this shard's own writes that a kill left behind.
    mkdirSync(shardsDir, { recursive: true });
    for (const f of readdirSync(shardsDir))
      if (f.startsWith(`.${tag}.`) && f.endsWith('.tmp')) rmSync(join(shardsDir, f), { force: true });
    const manifest: ShardManifest = {
      input: {
        kind: input.kind,
        path: input.input,
        split: o.split ?? null,
        videos: input.videos.length,
        listSha256: input.listSha256,
      },
      shard,
      shardFrom: from,
      settings,
      workers,
      threads,
      host: hostname(),
      started: new Date(started).toISOString(),
      videos: mine,
      result: null,
    };
    const writeManifest = () => atomicWriteFile(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
    writeManifest();
    const log = new JsonlLog(files.log);
    const failures = new FailureLog(files.failures, (f) => {
      log.write({ event: 'failed', ...f });
      say(`skipping ${f.file}: ${f.problem}`);
    });
    failures.write();

    const todo: VideoJob[] = mine
      .filter((v) => videoState(out, v.key, overlay) !== 'done')
      .map((v) => ({ ...v, outDir: videoDir(out, v.key) }));
    const alreadyDone = mine.length - todo.length;
    log.write({
      event: 'start',
      input: manifest.input,
      shard,
      shardFrom: from,
      shardVideos: mine.length,
      alreadyDone,
      todo: todo.length,
      ignoredFiles: input.ignored.length,
      settings,
      workers,
      threads,
    });
    say(
      `segment-batch ${tag} (${from}): ${mine.length} of ${input.videos.length} videos, ${alreadyDone} already done, ${todo.length} to do; ${workers} worker(s) x ${threads} thread(s)`,
    );

    let done = 0;
    let frames = 0;
    const progress =
      o.progress === false || !todo.length ? undefined : new Progress(`segment-batch ${tag}`, todo.length);
    const config = {
      modelFile: located.file,
      ep: o.ep ?? 'cpu',
      threads,
      settings: {
        overlap: settings.overlap,
        overlay,
        batchSize: o.batchSize ?? 4,
        crop: settings.crop,
        pixelSpacingMm: o.pixelSpacingMm,
      },
    };
    try {
      await runVideoJobs(todo, workers, config, {
        ready: (describe) => log.write({ event: 'model', describe }),
        begin: (job, worker) =>
          log.write({ event: 'begin', key: job.key, path: job.path, worker: worker.index, pid: worker.pid }),
        outcome: (r, worker) => {
          for (const n of r.notes) log.write({ event: 'note', key: r.key, note: n });
          if (r.ok) {
            done++;
            frames += r.frames;
            log.write({ event: 'video', key: r.key, frames: r.frames, seconds: r.seconds, worker });
          } else {
            failures.add(r.file, r.problem);
            if (o.strict) throw new Error(`${r.file}: ${r.problem} (--strict)`);
          }
          progress?.tick(1, r.key);
        },
      });
    } finally {
      progress?.stop();
    }

    const wallSeconds = (Date.now() - started) / 1000;
    const cores = workers * threads;
    manifest.result = {
      finished: new Date().toISOString(),
      alreadyDone,
      done,
      failed: failures.items.length,
      frames,
      wallSeconds,
      cores,
      videosPerHour: done ? (done / wallSeconds) * 3600 : null,
      videosPerCoreHour: done ? (done / wallSeconds) * (3600 / cores) : null,
    };
    writeManifest();
    failures.write();
    log.write({ event: 'done', ...manifest.result });
    return { manifest, files, failures: failures.items };
  } finally {
    located.cleanup?.();
  }
}
