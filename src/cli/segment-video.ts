// `unilvseg segment-video`: whole-video segmentation and cardiac analysis of one video
// (upstream seg_3d_inference.py) or of every video of a dataset split (batch mode).
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../data/errors.js';
import { readFileList } from '../data/filelist.js';
import { VideoError } from '../data/video.js';
import { loadSegmentationModel, type SegmentationModel } from '../infer/model.js';
import { videoStem } from '../infer/png-masks.js';
import { segmentVideo, type SegmentSummary } from '../infer/segment.js';
import type { ExecutionProvider } from '../onnx/runtime.js';
import { atomicWriteFile } from '../util/atomic.js';
import { JsonlLog } from '../util/jsonl.js';
import { Progress } from '../util/progress.js';
import { parse } from './flags.js';

export interface BatchOptions {
  dataPath: string;
  saveDir: string;
  model: SegmentationModel;
  split?: string;
  /** 0-based shard `index` of `count`: videos k with k % count === index. */
  shard?: { index: number; count: number };
  overlap?: boolean;
  batchSize?: number;
  truthDir?: string;
  progress?: boolean;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index >= 0 && index < count))
    throw new Error(`--shard takes i/n with 0 <= i < n (e.g. 0/4), got "${text}"`);
  return { index, count };
}

/** The videos of a split in FileList order (every listed one: whole-video inference needs no tracings). */
export function splitVideos(
  dataPath: string,
  split: string,
  shard?: { index: number; count: number },
): { name: string; path: string }[] {
  const want = split.toUpperCase();
  const rows = readFileList(join(dataPath, 'FileList.csv')).filter((r) => want === 'ALL' || r.split === want);
  const videos = rows.map((r) => {
    const name = /\.[A-Za-z0-9]+$/.test(r.fileName) ? r.fileName : `${r.fileName}.avi`;
    return { name, path: join(dataPath, 'Videos', name) };
  });
  return shard ? videos.filter((_, k) => k % shard.count === shard.index) : videos;
}

const stats = (xs: (number | null | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { n: 0, mean: null, median: null };
  const mid = v.length >> 1;
  return {
    n: v.length,
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2,
  };
};

const scored = (s: SegmentSummary) => (s.truth && !('error' in s.truth) ? s.truth : undefined);

/** Over videos: mean/median EF error, ED/ES detection error, per-video DSC, and the DSC pooled over every frame of every video. */
export function aggregateTruth(summaries: SegmentSummary[]) {
  const t = summaries.map(scored).filter((x) => x !== undefined);
  if (!t.length) return null;
  const inter = t.reduce((a, x) => a + x.intersectionPx, 0);
  const union = t.reduce((a, x) => a + x.unionPx, 0);
  const ef = stats(t.map((x) => x.efAbsError));
  const ed = stats(t.map((x) => x.meanAbsEdError));
  const es = stats(t.map((x) => x.meanAbsEsError));
  return {
    videos: t.length,
    // Headline numbers: DSC pooled over every frame of every video; means over videos of the rest.
    dscAllFrames: union + inter > 0 ? (2 * inter) / (union + inter) : null,
    efMae: ef.mean,
    edErrorFrames: ed.mean,
    esErrorFrames: es.mean,
    // Their distributions over videos (n = videos with a value: EF and ED/ES need a detected beat).
    dsc: stats(t.map((x) => x.dsc)),
    efAbsError: ef,
    absEdError: ed,
    absEsError: es,
  };
}

function csvRow(s: SegmentSummary, name: string): string {
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
  ].join(',');
}

const CSV_HEADER =
  'video,frames,fps,resized,windows,beats,mean_ef,heart_rate_bpm,dsc_all_frames,ef_true,ef_abs_error,mean_abs_ed_error,mean_abs_es_error,frames_per_second';

/** Batch mode: each video into <saveDir>/<stem>/, bad ones in failures.jsonl, aggregate summary.csv + summary.json. */
export async function runSegmentBatch(o: BatchOptions) {
  const saveDir = resolve(o.saveDir);
  const videos = splitVideos(o.dataPath, o.split ?? 'test', o.shard);
  if (!videos.length)
    throw new Error(
      `no videos in split ${o.split ?? 'test'}${o.shard ? ` shard ${o.shard.index}/${o.shard.count}` : ''} of ${o.dataPath}`,
    );
  const log = new JsonlLog(join(saveDir, 'segment.jsonl'));
  const failures = new JsonlLog(join(saveDir, 'failures.jsonl'));
  log.write({
    event: 'start',
    dataPath: resolve(o.dataPath),
    split: o.split ?? 'test',
    shard: o.shard ?? null,
    videos: videos.length,
    model: o.model.describe,
    overlap: !!o.overlap,
  });
  const progress = o.progress === false ? undefined : new Progress('segment-video', videos.length);
  const done: { name: string; summary: SegmentSummary }[] = [];
  const failed: { video: string; problem: string }[] = [];
  const notes: string[] = [];
  try {
    for (const v of videos) {
      try {
        if (!existsSync(v.path)) throw new VideoError(v.path, 'no such file (listed in FileList.csv)');
        const summary = await segmentVideo(
          {
            videoPath: v.path,
            outDir: join(saveDir, videoStem(v.name)),
            model: o.model,
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
        if (!(e instanceof VideoError || e instanceof DataError)) throw e;
        failed.push({ video: v.path, problem: e.message });
        failures.write({ video: v.path, problem: e.message });
        process.stderr.write(`skipping ${v.path}: ${e.message}\n`);
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
  const result = {
    dataPath: resolve(o.dataPath),
    split: o.split ?? 'test',
    shard: o.shard ?? null,
    model: o.model.describe,
    overlap: !!o.overlap,
    videos: videos.length,
    processed: done.length,
    failed: failed.length,
    failures: failed,
    resized: summaries.filter((s) => s.resize).length,
    notes,
    frames,
    framesPerSecond: seconds > 0 ? frames / seconds : null,
    efMean: stats(summaries.map((s) => s.meanEf)),
    truth: aggregateTruth(summaries),
    perVideo: done.map(({ name, summary: s }) => ({
      video: name,
      dir: videoStem(name),
      frames: s.frames,
      meanEf: s.meanEf,
      beats: s.beats.length,
      resize: s.resize,
      truth: s.truth,
    })),
  };
  atomicWriteFile(
    join(saveDir, 'summary.csv'),
    [CSV_HEADER, ...done.map((d) => csvRow(d.summary, d.name))].join('\n') + '\n',
  );
  atomicWriteFile(join(saveDir, 'summary.json'), JSON.stringify(result, null, 2) + '\n');
  log.write({ event: 'done', processed: done.length, failed: failed.length, truth: result.truth });
  return result;
}

interface SegmentFlags {
  videoPath?: string;
  dataPath?: string;
  savePath: string;
  model?: string;
  checkpoint?: string;
  artifacts?: string;
  overlap?: boolean;
  batchSize: number;
  truth?: string;
  split: string;
  shard?: string;
  ep: ExecutionProvider;
  threads?: number;
}

function printSummary(s: SegmentSummary): void {
  const ef = s.meanEf === null ? 'n/a (no complete beat found)' : `${s.meanEf.toFixed(1)} %`;
  console.log(
    `${s.frames} frames at ${s.fps.toFixed(1)} fps, ${s.windows.count} windows (${s.windows.mode}), ${s.beats.length} beat(s), mean EF ${ef}, ${s.framesPerSecond.toFixed(1)} frames/s`,
  );
  const t = s.truth;
  if (t && 'error' in t) console.log(`truth: ${t.error}`);
  else if (t) {
    const f = (x: number | null, d = 2) => (x === null ? 'n/a' : x.toFixed(d));
    console.log(
      `truth: all-frame DSC ${f(t.dsc, 4)}, EF true ${t.efTrue.toFixed(1)} vs ${f(t.efPredicted, 1)} (|err| ${f(t.efAbsError, 1)}), mean |ED err| ${f(t.meanAbsEdError)} frames, mean |ES err| ${f(t.meanAbsEsError)} frames`,
    );
  }
}

export function register(program: Command): void {
  program
    .command('segment-video')
    .description(
      'Segment the LV in every frame of a video (upstream seg_3d_inference.py) and measure it: ED/ES frames of every beat, ' +
        'EF by the method of discs per beat and averaged, LV area plot. One video (--video_path) or a dataset split (--data_path).',
    )
    .option('--video-path <file>', 'one video, any format ffmpeg reads, any length and frame size')
    .option(
      '--data-path <dir>',
      'batch mode: every video of --split listed in <dir>/FileList.csv (Videos/<name>)',
    )
    .requiredOption(
      '--save-path <dir>',
      'output folder (batch mode: one subfolder per video plus summary.csv/summary.json)',
    )
    .option('--model <path>', 'model.onnx, an artifact-set folder, or a training run folder')
    .option(
      '--checkpoint <file>',
      '.safetensors weights, run with the artifact set next to it (or --artifacts)',
    )
    .option(
      '--artifacts <dir>',
      'the artifact set of --checkpoint (default: <folder of the checkpoint>/artifacts)',
    )
    .option(
      '--overlap',
      "windows at half stride whose sigmoid probabilities are averaged (default: upstream's non-overlapping windows, last one wins)",
    )
    .option('--batch-size <n>', 'windows per forward pass', parse.int, 4)
    .option(
      '--truth <dir>',
      'synthetic dataset root with per-frame ground truth (Masks/): adds all-frame DSC, ED/ES frame error and EF error',
    )
    .option('--split <name>', 'batch mode: split (train, val, test, all)', 'test')
    .option(
      '--shard <i/n>',
      'batch mode: only videos k with k mod n = i (0-based), to spread a split over n processes',
    )
    .addOption(
      new Option('--ep <ep>', 'ONNX Runtime execution provider')
        .choices(['cpu', 'cuda', 'auto'])
        .default('cpu'),
    )
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', parse.int)
    .addHelpText(
      'after',
      `
Writes into --save_path: mask.avi (0/255 masks, 3 channels, FFV1 so they stay exact, source fps), overlay.mp4 (LV contour
in green on the echo; with --truth the true contour in magenta), frames.csv (frame, time_s, area_px, smoothed_area_px,
is_ed, is_es), area.svg (LV area over time, ED red, ES blue) and summary.json (windows, beats with ED/ES frames and
per-beat EF, mean EF, heart rate, timings, truth scores), plus segment.jsonl.
Videos shorter than T*p frames are padded with black frames as upstream does, but only real frames are written out.
Frames not of the model's size are resized to it on decode (a note is printed and stored in summary.json); masks and
the overlay are then at the model's size, and a changed aspect ratio distorts volumes (EF, a ratio of them, far less).

Examples:
  unilvseg segment-video --video_path demo/data/Videos/0X1A2B.avi --save_path out/0X1A2B --model runs/weak
  unilvseg segment-video --video_path clip.mp4 --save_path out/clip --checkpoint runs/weak/best.safetensors --overlap
  unilvseg segment-video --data_path demo/data --split test --truth demo/data --save_path out/test --model runs/weak --shard 0/2`,
    )
    .action(async (o: SegmentFlags) => {
      if (!!o.videoPath === !!o.dataPath)
        throw new Error('give exactly one of --video-path (one video) and --data-path (batch mode)');
      if (/\.avi$/i.test(o.savePath))
        throw new Error(
          `--save-path is an output folder (mask.avi, overlay.mp4, ... go inside it), got ${o.savePath}`,
        );
      const shard = o.shard === undefined ? undefined : parseShard(o.shard);
      if (shard && !o.dataPath) throw new Error('--shard needs batch mode (--data-path)');
      const model = await loadSegmentationModel({
        model: o.model,
        checkpoint: o.checkpoint,
        artifacts: o.artifacts,
        ep: o.ep,
        threads: o.threads,
      });
      try {
        process.stderr.write(`segment-video: ${model.describe}\n`);
        if (o.videoPath) {
          const log = new JsonlLog(join(o.savePath, 'segment.jsonl'));
          log.write({
            event: 'start',
            video: resolve(o.videoPath),
            model: model.describe,
            overlap: !!o.overlap,
          });
          const s = await segmentVideo({
            videoPath: o.videoPath,
            outDir: o.savePath,
            model,
            overlap: o.overlap,
            batchSize: o.batchSize,
            truthDir: o.truth,
            progress: true,
          });
          log.write({
            event: 'done',
            frames: s.frames,
            meanEf: s.meanEf,
            beats: s.beats.length,
            resize: s.resize,
            truth: s.truth,
            seconds: s.seconds,
          });
          printSummary(s);
          console.log(`wrote ${Object.values(s.outputs).join(', ')}`);
        } else {
          const r = await runSegmentBatch({
            dataPath: o.dataPath!,
            saveDir: o.savePath,
            model,
            split: o.split,
            shard,
            overlap: o.overlap,
            batchSize: o.batchSize,
            truthDir: o.truth,
          });
          console.log(
            `${r.processed}/${r.videos} videos segmented (${r.failed} failed, ${r.resized} resized), ${r.framesPerSecond?.toFixed(1) ?? '?'} frames/s`,
          );
          if (r.truth) {
            const t = r.truth;
            const f = (x: number | null, d = 2) => (x === null ? 'n/a' : x.toFixed(d));
            console.log(
              `truth over ${t.videos} videos: pooled all-frame DSC ${f(t.dscAllFrames, 4)}, EF MAE ${f(t.efMae)}, mean |ED err| ${f(t.edErrorFrames)} frames, mean |ES err| ${f(t.esErrorFrames)} frames`,
            );
          }
          console.log(`wrote ${join(o.savePath, 'summary.csv')}, ${join(o.savePath, 'summary.json')}`);
        }
      } finally {
        await model.release();
      }
    });
}
