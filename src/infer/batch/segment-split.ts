// Batch mode of `unilvseg segment-video`: every video of an EchoNet split (or one shard of it), each
// into its own folder, bad videos reported and skipped, the aggregate written as CSV and JSON.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { badItem } from '../../data/bad-item.js';
import { listVideoFolder } from '../../data/open-video.js';
import { VideoError } from '../../data/video.js';
import type { SegmentationModel } from '../model.js';
import { videoStem } from '../png-masks.js';
import { segmentVideo, type SegmentSummary } from '../segment.js';
import { atomicWriteFile } from '../../util/atomic.js';
import { csvText, FailureLog } from '../../util/failures.js';
import { JsonlLog } from '../../util/jsonl.js';
import { Progress } from '../../util/progress.js';
import { aggregateTruth, scored, stats } from './aggregate.js';
import { shardFileName, shardItems, type Shard } from './shard.js';
import { splitVideos } from './split-videos.js';

export interface BatchOptions {
  /** An EchoNet-format dataset root (FileList.csv, Videos/); or `inputDir`. */
  dataPath?: string;
  /** Every video and DICOM file of this folder (no FileList.csv needed); `split` does not apply. */
  inputDir?: string;
  /** false: `--no-crop`; see segmentVideo. */
  crop?: boolean;
  /** mm per pixel for videos whose files state none (DICOM files keep their own unless this is given). */
  pixelSpacingMm?: { x: number; y: number };
  saveDir: string;
  model: SegmentationModel;
  split?: string;
  /** 0-based shard `index` of `count`: videos k with k % count === index. */
  shard?: Shard;
  overlap?: boolean;
  batchSize?: number;
  truthDir?: string;
  progress?: boolean;
  /** Stop at the first bad video instead of reporting and skipping it. */
  strict?: boolean;
}

function csvRow(s: SegmentSummary, name: string): (string | number)[] {
  const t = scored(s);
  const f = (x: number | null | undefined, d = 4) =>
    typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '';
  return [
    name,
    s.frames,
    f(s.fps, 2),
    s.resize ? 1 : 0,
    s.windows.count,
    s.beats.length,
    f(s.meanEf, 2),
    f(s.heartRateBpm, 1),
    f(t?.dsc),
    f(t?.efTrue, 2),
    f(t?.efAbsError, 2),
    f(t?.meanAbsEdError, 2),
    f(t?.meanAbsEsError, 2),
    f(s.framesPerSecond, 1),
    f(s.meanEdvMl, 2),
    f(s.meanEsvMl, 2),
  ];
}

const CSV_HEADER =
  'video,frames,fps,resized,windows,beats,mean_ef,heart_rate_bpm,dsc_all_frames,ef_true,ef_abs_error,mean_abs_ed_error,mean_abs_es_error,frames_per_second,edv_ml,esv_ml'.split(
    ',',
  );

/**
 * Batch mode: each video into <saveDir>/<stem>/, bad ones in failures.csv, aggregate summary.csv +
 * summary.json; with a shard, these three and the log carry the shard's name, so shards writing
 * into one folder never overwrite each other's.
 */
export async function runSegmentSplit(o: BatchOptions) {
  const saveDir = resolve(o.saveDir);
  if (!!o.dataPath === !!o.inputDir)
    throw new Error('give exactly one of a dataset (dataPath) and a folder (inputDir)');
  const ignored: string[] = [];
  let videos: { name: string; path: string; dir: string }[];
  if (o.inputDir) {
    const listed = listVideoFolder(o.inputDir);
    ignored.push(...listed.ignored);
    videos = shardItems(
      listed.videos.map((v) => ({ name: v.name, path: v.path, dir: v.name })),
      o.shard,
    );
  } else
    videos = splitVideos(o.dataPath!, o.split ?? 'test', o.shard).map((v) => ({
      ...v,
      dir: videoStem(v.name),
    }));
  if (!videos.length)
    throw new Error(
      o.inputDir
        ? `no videos or DICOM files in ${o.inputDir}${o.shard ? ` shard ${o.shard.index}/${o.shard.count}` : ''}`
        : `no videos in split ${o.split ?? 'test'}${o.shard ? ` shard ${o.shard.index}/${o.shard.count}` : ''} of ${o.dataPath}`,
    );
  const source = o.inputDir ? { input: resolve(o.inputDir), ignored } : { dataPath: resolve(o.dataPath!) };
  const named = (base: string) => join(saveDir, shardFileName(base, o.shard));
  const log = new JsonlLog(named('segment.jsonl'));
  const failures = new FailureLog(named('failures.csv'), (f) => {
    log.write({ event: 'failed', ...f });
    process.stderr.write(`skipping ${f.file}: ${f.problem}\n`);
  });
  log.write({
    event: 'start',
    ...source,
    split: o.inputDir ? null : (o.split ?? 'test'),
    shard: o.shard ?? null,
    videos: videos.length,
    model: o.model.describe,
    overlap: !!o.overlap,
  });
  const progress = o.progress === false ? undefined : new Progress('segment-video', videos.length);
  const done: { name: string; summary: SegmentSummary }[] = [];
  const notes: string[] = [];
  try {
    for (const v of videos) {
      try {
        if (!existsSync(v.path)) throw new VideoError(v.path, 'no such file (listed in FileList.csv)');
        const summary = await segmentVideo(
          {
            videoPath: v.path,
            outDir: join(saveDir, v.dir),
            model: o.model,
            crop: o.crop,
            pixelSpacingMm: o.pixelSpacingMm,
            overlap: o.overlap,
            batchSize: o.batchSize,
            truthDir: o.truthDir,
            truthName: v.name,
          },
          (m) => notes.push(m),
        );
        done.push({ name: v.name, summary });
        log.write({
          event: 'video',
          video: v.name,
          frames: summary.frames,
          meanEf: summary.meanEf,
          resize: summary.resize,
          truth: scored(summary)
            ? { dsc: scored(summary)!.dsc, efAbsError: scored(summary)!.efAbsError }
            : undefined,
          seconds: summary.seconds.total,
        });
      } catch (e) {
        // A video that cannot be read (or whose listing is wrong) is skipped; anything else is a bug or a model problem and stops the run.
        const bad = badItem(e);
        if (!bad || o.strict) throw e;
        failures.add(bad.file, bad.problem);
      }
      progress?.tick(1, v.name);
    }
  } finally {
    progress?.stop();
  }
  for (const n of notes) process.stderr.write(`${n}\n`);
  const summaries = done.map((d) => d.summary);
  const frames = summaries.reduce((a, s) => a + s.frames, 0);
  const seconds = summaries.reduce((a, s) => a + s.seconds.total, 0);
  const dirs = new Map(videos.map((v) => [v.name, v.dir]));
  const result = {
    ...source,
    split: o.inputDir ? null : (o.split ?? 'test'),
    shard: o.shard ?? null,
    model: o.model.describe,
    overlap: !!o.overlap,
    videos: videos.length,
    processed: done.length,
    failed: failures.items.length,
    failures: failures.items,
    resized: summaries.filter((s) => s.resize).length,
    notes,
    frames,
    framesPerSecond: seconds > 0 ? frames / seconds : null,
    efMean: stats(summaries.map((s) => s.meanEf)),
    truth: aggregateTruth(summaries),
    perVideo: done.map(({ name, summary: s }) => ({
      video: name,
      dir: dirs.get(name),
      spacing: s.spacing,
      meanEdvMl: s.meanEdvMl,
      meanEsvMl: s.meanEsvMl,
      frames: s.frames,
      meanEf: s.meanEf,
      beats: s.beats.length,
      resize: s.resize,
      truth: s.truth,
    })),
  };
  const files = { csv: named('summary.csv'), json: named('summary.json'), failures: failures.csvPath };
  atomicWriteFile(
    files.csv,
    csvText(
      CSV_HEADER,
      done.map((d) => csvRow(d.summary, d.name)),
    ),
  );
  atomicWriteFile(files.json, JSON.stringify(result, null, 2) + '\n');
  failures.write();
  log.write({ event: 'done', processed: done.length, failed: result.failed, truth: result.truth });
  return { ...result, files };
}
