// The part of whole-video segmentation that needs no file system, no ffmpeg and no native ONNX
// Runtime: windows -> masks, and the frames.csv / summary.json contents. segment.ts (Node) and the
// browser viewer (web/) both run this module, so their outputs have one format and one meaning.
// Keep it free of Node-only imports (the web bundle is built for the browser and fails on them).
import { gatherClip } from '../data/samples.js';
import { analyzeCardiac, areaCm2, type CardiacAnalysis, type Spacing } from './cardiac/index.js';
import {
  masksToNative,
  nativePixelsPerModelPixel,
  planMapping,
  toModelFrames,
  type FrameMapping,
  type MappingSummary,
} from './frame-mapping.js';
import type { RgbVideo } from './overlay.js';
import { videoWindows, WindowFusion, type WindowMode } from './windows.js';

/** What segmentation needs of a model: its clip settings and a forward pass (onnxruntime-node or -web). */
export interface ClipModel {
  /** T, p and the square frame side the model was built for. */
  frames: number;
  period: number;
  size: number;
  /** logits float32 [n, T, size, size] for clips uint8 [n, T, size, size, 3]. */
  run(clips: Uint8Array, n: number): Promise<Float32Array>;
}

/** Scores of a segmented video against its synthetic per-frame ground truth. */
export interface EventMatch {
  countable: number;
  missed: number;
  spurious: number;
}

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
  /** Beats the analysis found; with none, EF and the ED/ES errors above are undefined (null). */
  beatsDetected: number;
  /**
   * True ED (ES) frames a detector could find (not on the first or last frame, an ED with a true
   * ES after it, an ES with a true ED before it), how many of them no detection lies within a
   * quarter beat of, and detections matched to no true event (or to one already matched).
   */
  ed: EventMatch;
  es: EventMatch;
  /** The dataset's EF (method of discs on its tracings) against the mean predicted EF. */
  efTrue: number;
  efPredicted: number | null;
  efAbsError: number | null;
}

export const OUTPUT_FILES = {
  masks: 'mask.avi',
  overlay: 'overlay.mp4',
  frames: 'frames.csv',
  plot: 'area.svg',
  summary: 'summary.json',
  contours: 'contours.json',
} as const;

export type OutputKind = keyof typeof OUTPUT_FILES;

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
  /** How frames became the model's input (crop box, scale); masks and overlay are mapped back to the source size. */
  preprocessing?: MappingSummary;
  /** mm per pixel and where it came from, or null: then EF only (areas in px, volumes in px^3). */
  spacing?: (Spacing & { source: string }) | null;
  /** Units of areas and volumes in this summary and frames.csv, and why. */
  units?: { area: 'cm^2' | 'px'; volume: 'mL' | 'px^3'; note: string };
  /** Means over the beats, with a pixel spacing. */
  meanEdvMl?: number | null;
  meanEsvMl?: number | null;
  /** Where each output went: segment-video writes all five, the browser viewer offers some as downloads. */
  outputs: Partial<Record<OutputKind, string>>;
  seconds: { decode: number; inference: number; write: number; total: number };
  framesPerSecond: number;
}

/**
 * Binary masks [count, size, size] for every real frame of `video` (already at the model's size):
 * windows over the black-padded video, batched through the model, fused per frame.
 */
export async function segmentFrames(
  video: RgbVideo,
  model: ClipModel,
  mode: WindowMode,
  batchSize = 4,
  onWindows?: (done: number, total: number) => void,
): Promise<{ masks: Uint8Array; probs: Float32Array; windows: number[][] }> {
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
  return { masks: fusion.result(), probs: fusion.probabilities(), windows };
}

/**
 * frames.csv: one row per frame with its time, area, smoothed area and whether it is an ED/ES
 * frame; with a pixel spacing, the two areas in cm^2 as two more columns at the end.
 */
export function framesCsv(
  a: Pick<CardiacAnalysis, 'area' | 'smoothedArea' | 'beats' | 'fps'>,
  spacing?: Spacing,
): string {
  const ed = new Set(a.beats.map((b) => b.ed));
  const es = new Set(a.beats.map((b) => b.es));
  const rows = [
    'frame,time_s,area_px,smoothed_area_px,is_ed,is_es' + (spacing ? ',area_cm2,smoothed_area_cm2' : ''),
  ];
  for (let f = 0; f < a.area.length; f++) {
    const cm2 = spacing
      ? `,${areaCm2(a.area[f], spacing).toFixed(4)},${areaCm2(a.smoothedArea[f], spacing).toFixed(4)}`
      : '';
    rows.push(
      `${f},${(f / a.fps).toFixed(4)},${a.area[f]},${a.smoothedArea[f].toFixed(2)},${ed.has(f) ? 1 : 0},${es.has(f) ? 1 : 0}${cm2}`,
    );
  }
  return rows.join('\n') + '\n';
}

export const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export interface VideoSegmentation {
  /** Masks [count, H, W] at the video's own size, and [count, S, S] as the model saw them. */
  masks: Uint8Array;
  modelMasks: Uint8Array;
  windows: number[][];
  mapping: FrameMapping;
  preprocessing: MappingSummary;
  analysis: CardiacAnalysis;
}

export interface VideoSegmentationOptions {
  mode: WindowMode;
  /** Windows per forward pass. */
  batchSize?: number;
  /** false: `--no-crop` (see frame-mapping.ts). */
  crop?: boolean;
  /** mm per pixel: areas in cm^2 and volumes in mL besides the EF. */
  spacing?: Spacing | null;
  onWindows?: (done: number, total: number) => void;
}

/**
 * One decoded video, whatever its size, to masks and cardiac analysis: frames mapped to the
 * model's input (sector crop), windows through the model, probabilities mapped back to the
 * video's own grid, then ED/ES, areas, volumes and EF. segment-video and the browser viewer both
 * run exactly this.
 */
export async function segmentVideoFrames(
  video: RgbVideo,
  model: ClipModel,
  o: VideoSegmentationOptions,
): Promise<VideoSegmentation> {
  const { mapping, summary: preprocessing } = planMapping(video, model.size, { crop: o.crop });
  const input = toModelFrames(video, mapping);
  const segmented = await segmentFrames(input, model, o.mode, o.batchSize ?? 4, o.onWindows);
  const masks = masksToNative(segmented.probs, segmented.masks, video.count, mapping);
  const analysis = analyzeCardiac(masks, video.count, video.height, video.width, video.fps, {
    convention: 'tracing',
    spacing: o.spacing ?? undefined,
    tracingPixel: nativePixelsPerModelPixel(mapping),
  });
  return { masks, modelMasks: segmented.masks, windows: segmented.windows, mapping, preprocessing, analysis };
}

/** summary.json's units part: what areas and volumes are measured in, and the mean volumes in mL. */
function unitsSummary(
  spacing: (Spacing & { source: string }) | null,
  analysis: CardiacAnalysis,
): Pick<SegmentSummary, 'spacing' | 'units' | 'meanEdvMl' | 'meanEsvMl'> {
  if (!spacing)
    return {
      spacing: null,
      units: {
        area: 'px',
        volume: 'px^3',
        note: 'no pixel spacing (none in the file, no --pixel_spacing_mm): EF only; areas in pixels, volumes in px^3 (relative)',
      },
    };
  const meanOf = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    spacing: { x: spacing.x, y: spacing.y, source: spacing.source },
    units: {
      area: 'cm^2',
      volume: 'mL',
      note: `pixel spacing ${spacing.x} x ${spacing.y} mm from ${spacing.source}`,
    },
    meanEdvMl: meanOf(analysis.beats.map((b) => b.edVolumeMl)),
    meanEsvMl: meanOf(analysis.beats.map((b) => b.esVolumeMl)),
  };
}

export interface SummaryInput {
  video: string;
  source: SegmentSummary['source'];
  model: ClipModel & { describe: string };
  mode: WindowMode;
  segmentation: Pick<VideoSegmentation, 'windows' | 'analysis' | 'mapping' | 'preprocessing'>;
  /** Frames segmented (the decoded count, which may differ from the container's). */
  count: number;
  spacing: (Spacing & { source: string }) | null;
  truth?: SegmentSummary['truth'];
  outputs: SegmentSummary['outputs'];
  seconds: SegmentSummary['seconds'];
}

/** summary.json's object, the same for segment-video and the browser viewer. */
export function buildSummary(s: SummaryInput): SegmentSummary {
  const { model } = s;
  const { analysis, windows, mapping, preprocessing } = s.segmentation;
  return {
    video: s.video,
    fps: analysis.fps,
    frames: s.count,
    source: s.source,
    size: model.size,
    resize: mapping.mode === 'identity' ? null : preprocessing.note,
    model: model.describe,
    windows: {
      mode: s.mode,
      count: windows.length,
      T: model.frames,
      period: model.period,
      paddedFrames: Math.max(s.count, model.frames * model.period),
      starts: windows.map((w) => w[0]),
    },
    beats: analysis.beats,
    meanEf: finiteOrNull(analysis.meanEf),
    heartRateBpm: finiteOrNull(analysis.heartRateBpm),
    ...(s.truth ? { truth: s.truth } : {}),
    preprocessing,
    ...unitsSummary(s.spacing, analysis),
    outputs: s.outputs,
    seconds: s.seconds,
    framesPerSecond: s.count / s.seconds.total,
  };
}
