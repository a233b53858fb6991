// `unilvseg segment-video`: whole-video segmentation and cardiac analysis of one video
// (upstream seg_3d_inference.py) or of every video of a dataset split (batch mode).
import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { runSegmentSplit } from '../infer/batch/segment-split.js';
import { parseShard } from '../infer/batch/shard.js';
import { loadSegmentationModel } from '../infer/model.js';
import { segmentVideo, type SegmentSummary } from '../infer/segment.js';
import type { ExecutionProvider } from '../onnx/runtime.js';
import { JsonlLog } from '../util/jsonl.js';
import { EXIT_SKIPPED } from '../util/failures.js';
import { parsePixelSpacing } from '../data/open-video.js';
import { epOption, parse, SKIP_HELP, STRICT_HELP, withModelSource } from './flags.js';

interface SegmentFlags {
  videoPath?: string;
  dataPath?: string;
  input?: string;
  crop: boolean;
  pixelSpacingMm?: { x: number; y: number };
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
  strict?: boolean;
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
      `truth: all-frame DSC ${f(t.dsc, 4)}, EF true ${t.efTrue.toFixed(1)} vs ${f(t.efPredicted, 1)} (|err| ${f(t.efAbsError, 1)}), mean |ED err| ${f(t.meanAbsEdError)} frames, mean |ES err| ${f(t.meanAbsEsError)} frames; missed ED ${t.ed.missed}/${t.ed.countable}, ES ${t.es.missed}/${t.es.countable}`,
    );
  }
}

export function register(program: Command): void {
  withModelSource(
    program
      .command('segment-video')
      .description(
        'Segment the LV in every frame of a video (upstream seg_3d_inference.py) and measure it: ED/ES frames of every beat, ' +
          'EF by the method of discs per beat and averaged, LV area plot. One video (--video_path) or a dataset split (--data_path).',
      )
      .option(
        '--video-path <file>',
        'one video: a DICOM file (found by content, any name) or any format ffmpeg reads, any length and frame size',
      )
      .option(
        '--input <dir>',
        'batch mode: every video and DICOM file in <dir> (no FileList.csv, no tracings), one output subfolder each',
      )
      .option(
        '--no-crop',
        "feed whole frames resized to the model's size (aspect ratio not kept) instead of the cropped ultrasound sector",
      )
      .option(
        '--pixel-spacing-mm <x[,y]>',
        'mm per pixel across (x) and down (y; default x): areas in cm^2 and volumes in mL (DICOM files state their own)',
        parsePixelSpacing,
      )
      .option(
        '--data-path <dir>',
        'batch mode: every video of --split listed in <dir>/FileList.csv (Videos/<name>)',
      )
      .requiredOption(
        '--save-path <dir>',
        'output folder (batch mode: one subfolder per video plus summary.csv, summary.json, failures.csv, segment.jsonl; with --shard named summary.shard-<i>-of-<n>.csv etc.)',
      ),
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
    .addOption(epOption())
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', parse.int)
    .option('--strict', `batch mode: ${STRICT_HELP}`)
    .addHelpText(
      'after',
      `
Reads DICOM files (multi-frame ultrasound: uncompressed RGB/YBR/MONOCHROME or JPEG baseline; fps from FrameTime,
CineRate or RecommendedDisplayFrameRate; mm per pixel from the ultrasound regions) and anything ffmpeg reads.
Frames not of the model's size are preprocessed as EchoNet's were: the ultrasound sector (the region that changes over
time) is found, text/ECG/scale outside it blanked, its bounding square (padded, never stretched) resized to the
model's size; --no-crop resizes whole frames instead. Masks are mapped back, so every output is at the video's size.
Writes into --save_path: mask.avi (0/255 masks, 3 channels, FFV1 so they stay exact, source fps and size), contours.json
(LV outline per frame, [x, y] pixel centres), overlay.mp4
(LV contour in green on the echo, frame number, ED/ES markers, running area curve; with --truth the true contour in
magenta), frames.csv (frame, time_s, area_px, smoothed_area_px, is_ed, is_es, and with a pixel spacing area_cm2,
smoothed_area_cm2), area.svg (LV area over time, ED red, ES blue) and summary.json (preprocessing crop and scale,
pixel spacing and units, windows, beats with ED/ES frames, per-beat EF and with a spacing EDV/ESV in mL, mean EF,
heart rate, timings, truth scores), plus segment.jsonl. Without a pixel spacing only EF is given (the summary says so).
Videos shorter than T*p frames are padded with black frames as upstream does, but only real frames are written out.
Batch mode: ${SKIP_HELP} For thousands of videos, sharded and resumable, see segment-batch.

Examples:
  unilvseg segment-video --video_path demo/data/Videos/0X1A2B.avi --save_path out/0X1A2B --model runs/weak
  unilvseg segment-video --video_path clip.mp4 --save_path out/clip --checkpoint runs/weak/best.safetensors --overlap
  unilvseg segment-video --data_path demo/data --split test --truth demo/data --save_path out/test --model runs/weak --shard 0/2
  unilvseg segment-video --video_path study.dcm --save_path out/study --model runs/weak
  unilvseg segment-video --video_path export.mp4 --pixel_spacing_mm 0.35,0.3 --save_path out/export --model runs/weak
  unilvseg segment-video --input exports/ --save_path out/exports --model runs/weak --no-crop`,
    )
    .action(async (o: SegmentFlags) => {
      if ([o.videoPath, o.dataPath, o.input].filter(Boolean).length !== 1)
        throw new Error(
          'give exactly one of --video-path (one video), --data-path (an EchoNet split) and --input (a folder)',
        );
      if (/\.avi$/i.test(o.savePath))
        throw new Error(
          `--save-path is an output folder (mask.avi, overlay.mp4, ... go inside it), got ${o.savePath}`,
        );
      const shard = o.shard === undefined ? undefined : parseShard(o.shard);
      if (shard && o.videoPath) throw new Error('--shard needs batch mode (--data-path or --input)');
      const crop = o.crop === false ? false : undefined;
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
            crop,
            pixelSpacingMm: o.pixelSpacingMm,
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
          console.log(
            `wrote ${Object.values(s.outputs)
              .map((f) => join(o.savePath, f))
              .join(', ')}`,
          );
        } else {
          const r = await runSegmentSplit({
            dataPath: o.dataPath,
            inputDir: o.input,
            crop,
            pixelSpacingMm: o.pixelSpacingMm,
            saveDir: o.savePath,
            model,
            split: o.split,
            shard,
            overlap: o.overlap,
            batchSize: o.batchSize,
            truthDir: o.truth,
            strict: o.strict,
          });
          console.log(
            `${r.processed}/${r.videos} videos segmented (${r.failed} failed, ${r.resized} resized), ${r.framesPerSecond?.toFixed(1) ?? '?'} frames/s`,
          );
          if (r.truth) {
            const t = r.truth;
            const f = (x: number | null, d = 2) => (x === null ? 'n/a' : x.toFixed(d));
            console.log(
              `truth over ${t.videos} videos: pooled all-frame DSC ${f(t.dscAllFrames, 4)}, EF MAE ${f(t.efMae)}, mean |ED err| ${f(t.edErrorFrames)} frames, mean |ES err| ${f(t.esErrorFrames)} frames; ${t.videosWithoutBeat} video(s) without a detected beat (no EF), missed ED ${t.ed.missed}/${t.ed.countable}, ES ${t.es.missed}/${t.es.countable}`,
            );
          }
          console.log(`wrote ${r.files.csv}, ${r.files.json}, ${r.files.failures}`);
          if (r.failed > 0) process.exitCode = EXIT_SKIPPED;
        }
      } finally {
        await model.release();
      }
    });
}
