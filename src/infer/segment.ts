// Whole-video segmentation (upstream seg_3d_inference.py and beyond it,
// docs/upstream.md#whole-video-inference): masks for every
// frame, then the cardiac analysis of the area curve, written as videos, CSV, JSON and SVG.
import { basename, extname, join, resolve } from 'node:path';
import { gatherClip } from '../data/samples.js';
import { readGroundTruthMasks, type GroundTruth } from '../data/synth/truth.js';
import { decodeVideo, encodeVideo, probeVideo, type DecodedVideo } from '../data/video.js';
import { atomicWriteFile } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { areaPlotSvg } from './area-plot.js';
import { analyzeCardiac, type CardiacAnalysis } from './cardiac/index.js';
import type { SegmentationModel } from './model.js';
import { writeOverlayVideo } from './overlay.js';
import { videoWindows, WindowFusion, type WindowMode } from './windows.js';

export interface SegmentOptions {
  videoPath: string;
  /** Output folder of this video. */
  outDir: string;
  model: SegmentationModel;
  overlap?: boolean;
  /** Windows per forward pass. */
  batchSize?: number;
  /** Synthetic dataset root holding Masks/<name>.u8.gz + .json (per-frame ground truth). */
  truthDir?: string;
  /** Name of the video in the truth folder (default: the file name without extension). */
  truthName?: string;
  /** Progress over the windows on stderr (for one long video; batch mode counts videos instead). */
  progress?: boolean;
}

export interface SegmentSummary {
  video: string;
  fps: number;
  frames: number;
  source: { width: number; height: number; frames: number; fps: number };
  size: number;
  resize: string | null;
  model: string;
  windows: {
    mode: WindowMode;
    count: number;
    T: number;
    period: number;
    paddedFrames: number;
    starts: number[];
  };
  beats: CardiacAnalysis['beats'];
  meanEf: number | null;
  heartRateBpm: number | null;
  truth?: TruthScore | { error: string };
  outputs: Record<'masks' | 'overlay' | 'frames' | 'plot' | 'summary', string>;
  seconds: { decode: number; inference: number; write: number; total: number };
  framesPerSecond: number;
}

export const OUTPUT_FILES = {
  masks: 'mask.avi',
  overlay: 'overlay.mp4',
  frames: 'frames.csv',
  plot: 'area.svg',
  summary: 'summary.json',
} as const;

/**
 * Binary masks [count, size, size] for every real frame of `video` (already at the model's size):
 * windows over the black-padded video, batched through the model, fused per frame.
 */
export async function segmentFrames(
  video: DecodedVideo,
  model: SegmentationModel,
  mode: WindowMode,
  batchSize = 4,
  onWindows?: (done: number, total: number) => void,
): Promise<{ masks: Uint8Array; windows: number[][] }> {
  const { frames: T, period, size } = model;
  if (video.width !== size || video.height !== size)
    throw new Error(`frames are ${video.width}x${video.height}, the model takes ${size}x${size}`);
  const windows = videoWindows(video.count, T, period, mode);
  const plane = size * size;
  const fusion = new WindowFusion(video.count, plane, mode);
  for (let k = 0; k < windows.length; k += batchSize) {
    const group = windows.slice(k, k + batchSize);
    const clipBytes = T * plane * 3;
    const clips = new Uint8Array(group.length * clipBytes);
    group.forEach((w, i) => clips.set(gatherClip(video, w), i * clipBytes));
    const logits = await model.run(clips, group.length);
    group.forEach((w, i) => fusion.add(w, logits.subarray(i * T * plane, (i + 1) * T * plane)));
    onWindows?.(group.length, windows.length);
  }
  return { masks: fusion.result(), windows };
}

/** frames.csv: one row per frame with its time, area, smoothed area and whether it is an ED/ES frame. */
export function framesCsv(a: Pick<CardiacAnalysis, 'area' | 'smoothedArea' | 'beats' | 'fps'>): string {
  const ed = new Set(a.beats.map((b) => b.ed));
  const es = new Set(a.beats.map((b) => b.es));
  const rows = ['frame,time_s,area_px,smoothed_area_px,is_ed,is_es'];
  for (let f = 0; f < a.area.length; f++) {
    rows.push(
      `${f},${(f / a.fps).toFixed(4)},${a.area[f]},${a.smoothedArea[f].toFixed(2)},${ed.has(f) ? 1 : 0},${es.has(f) ? 1 : 0}`,
    );
  }
  return rows.join('\n') + '\n';
}

/** 0/1 masks [F, H, W] as 3-channel 0/255 frames, the form upstream's mask AVI has. */
export function masksToRgb(masks: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(masks.length * 3);
  for (let i = 0; i < masks.length; i++) if (masks[i]) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 255;
  return rgb;
}

/** Scores of a segmented video against its synthetic per-frame ground truth. */
export interface TruthScore {
  /**
   * Pooled over every frame: 2 sum(I) / (sum(U) + sum(I)), I = |pred AND truth|, U = |pred OR truth|
   * (docs/upstream.md#evaluation).
   */
  dsc: number | null;
  intersectionPx: number;
  unionPx: number;
  trueEd: number[];
  trueEs: number[];
  /** Per detected ED (ES): detected frame minus the nearest true ED (ES) frame. */
  edErrors: number[];
  esErrors: number[];
  meanAbsEdError: number | null;
  meanAbsEsError: number | null;
  /** The dataset's EF (method of discs on its tracings) against the mean predicted EF. */
  efTrue: number;
  efPredicted: number | null;
  efAbsError: number | null;
}

function nearestErrors(detected: number[], truth: number[]): number[] {
  if (truth.length === 0) return [];
  return detected.map((d) =>
    truth.reduce((best, t) => (Math.abs(d - t) < Math.abs(best) ? d - t : best), d - truth[0]),
  );
}

const meanAbs = (xs: number[]): number | null =>
  xs.length ? xs.reduce((a, x) => a + Math.abs(x), 0) / xs.length : null;

/** Whole-video DSC over all frames, ED/ES detection error in frames, and EF error against the truth. */
export function scoreAgainstTruth(
  masks: Uint8Array,
  count: number,
  height: number,
  width: number,
  analysis: Pick<CardiacAnalysis, 'beats' | 'meanEf'>,
  truth: GroundTruth,
): TruthScore {
  if (truth.height !== height || truth.width !== width)
    throw new Error(`ground truth is ${truth.width}x${truth.height}, the masks ${width}x${height}`);
  if (truth.frames !== count) throw new Error(`ground truth has ${truth.frames} frames, the video ${count}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < masks.length; i++) {
    const p = masks[i] > 0;
    const g = truth.masks[i] > 0;
    if (p && g) inter++;
    if (p || g) union++;
  }
  const edErrors = nearestErrors(
    analysis.beats.map((b) => b.ed),
    truth.edFrames,
  );
  const esErrors = nearestErrors(
    analysis.beats.map((b) => b.es),
    truth.esFrames,
  );
  const efPredicted = finiteOrNull(analysis.meanEf);
  return {
    dsc: union + inter > 0 ? (2 * inter) / (union + inter) : null,
    intersectionPx: inter,
    unionPx: union,
    trueEd: truth.edFrames,
    trueEs: truth.esFrames,
    edErrors,
    esErrors,
    meanAbsEdError: meanAbs(edErrors),
    meanAbsEsError: meanAbs(esErrors),
    efTrue: truth.efTrue,
    efPredicted,
    efAbsError: efPredicted === null ? null : Math.abs(efPredicted - truth.efTrue),
  };
}

const seconds = (since: number): number => (Date.now() - since) / 1000;
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function loadTruth(
  o: SegmentOptions,
  warn: (msg: string) => void,
): GroundTruth | { error: string } | undefined {
  if (!o.truthDir) return undefined;
  const name = o.truthName ?? basename(o.videoPath, extname(o.videoPath));
  try {
    return readGroundTruthMasks(o.truthDir, name);
  } catch (e) {
    warn(`no usable ground truth for ${name}: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
}

/**
 * Segments one video and writes mask.avi, overlay.mp4, frames.csv, area.svg and summary.json into `outDir`.
 */
export async function segmentVideo(
  o: SegmentOptions,
  warn: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<SegmentSummary> {
  const t0 = Date.now();
  const { model } = o;
  const S = model.size;
  const videoPath = resolve(o.videoPath);
  const info = await probeVideo(videoPath);
  const resize =
    info.width === S && info.height === S
      ? null
      : `frames resized from ${info.width}x${info.height} to the model's ${S}x${S}${info.width === info.height ? '' : ' (aspect ratio not kept)'}; masks and overlay are at ${S}x${S}`;
  if (resize) warn(`${basename(videoPath)}: ${resize}`);
  const video = await decodeVideo(videoPath, { width: S, height: S });
  const tDecode = seconds(t0);

  const t1 = Date.now();
  const mode: WindowMode = o.overlap ? 'overlap' : 'upstream';
  let bar: Progress | undefined;
  const onWindows = (n: number, total: number) =>
    (bar ??= new Progress(`segment ${basename(videoPath)} (windows)`, total)).tick(n);
  const { masks, windows } = await segmentFrames(
    video,
    model,
    mode,
    o.batchSize ?? 4,
    o.progress ? onWindows : undefined,
  ).finally(() => bar?.stop());
  const tInfer = seconds(t1);

  const t2 = Date.now();
  const analysis = analyzeCardiac(masks, video.count, S, S, video.fps, { convention: 'tracing' });
  const truth = loadTruth(o, warn);
  let truthScore: SegmentSummary['truth'];
  if (truth && 'error' in truth) truthScore = truth;
  else if (truth) {
    try {
      truthScore = scoreAgainstTruth(masks, video.count, S, S, analysis, truth);
    } catch (e) {
      warn(`${basename(videoPath)}: ground truth not scored: ${(e as Error).message}`);
      truthScore = { error: (e as Error).message };
    }
  }
  const gt = truth && !('error' in truth) && truthScore && !('error' in truthScore) ? truth : undefined;
  const outDir = resolve(o.outDir);
  const outputs = Object.fromEntries(
    Object.entries(OUTPUT_FILES).map(([k, f]) => [k, join(outDir, f)]),
  ) as SegmentSummary['outputs'];
  await Promise.all([
    // FFV1 keeps the 0/255 masks exact (MJPEG would blur their edges); any ffmpeg/OpenCV reads it.
    encodeVideo(outputs.masks, masksToRgb(masks), { width: S, height: S, fps: video.fps, codec: 'ffv1' }),
    writeOverlayVideo(outputs.overlay, video, masks, gt ? { gtMasks: gt.masks } : {}),
  ]);
  atomicWriteFile(outputs.frames, framesCsv(analysis));
  atomicWriteFile(
    outputs.plot,
    areaPlotSvg(
      { ...analysis, trueEd: gt?.edFrames, trueEs: gt?.esFrames },
      { title: `LV area: ${basename(videoPath)}` },
    ),
  );
  const tWrite = seconds(t2);
  const total = seconds(t0);
  const summary: SegmentSummary = {
    video: videoPath,
    fps: video.fps,
    frames: video.count,
    source: info,
    size: S,
    resize,
    model: model.describe,
    windows: {
      mode,
      count: windows.length,
      T: model.frames,
      period: model.period,
      paddedFrames: Math.max(video.count, model.frames * model.period),
      starts: windows.map((w) => w[0]),
    },
    beats: analysis.beats,
    meanEf: finiteOrNull(analysis.meanEf),
    heartRateBpm: finiteOrNull(analysis.heartRateBpm),
    ...(truthScore ? { truth: truthScore } : {}),
    outputs,
    seconds: { decode: tDecode, inference: tInfer, write: tWrite, total },
    framesPerSecond: video.count / total,
  };
  atomicWriteFile(outputs.summary, JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
