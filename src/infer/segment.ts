// Whole-video segmentation (upstream seg_3d_inference.py and beyond it,
// docs/upstream.md#whole-video-inference): masks for every
// frame, then the cardiac analysis of the area curve, written as videos, CSV, JSON and SVG.
import { basename, extname, join, relative, resolve } from 'node:path';
import { diceFromOverlap, overlap } from '../eval/metrics.js';
import { readGroundTruthMasks, type GroundTruth } from '../data/synth/truth.js';
import { openVideo } from '../data/open-video.js';
import { encodeVideo } from '../data/video.js';
import { atomicWriteFile } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { areaPlotSvg } from './area-plot.js';
import { areaCm2, type CardiacAnalysis } from './cardiac/index.js';
import { maskOutline } from './contour.js';
import type { SegmentationModel } from './model.js';
import { writeOverlayVideo } from './overlay-video.js';
import {
  buildSummary,
  finiteOrNull,
  framesCsv,
  OUTPUT_FILES,
  segmentFrames,
  segmentVideoFrames,
  type OutputKind,
  type SegmentSummary,
  type EventMatch,
  type TruthScore,
} from './segment-core.js';
import type { WindowMode } from './windows.js';

export { segmentFrames, type SegmentSummary, type TruthScore };

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
  /** false: `--no-crop`, the whole frame is resized to the model's size (see frame-mapping.ts). */
  crop?: boolean;
  /** mm per pixel (x along a row, y down a column), over any the file states. */
  pixelSpacingMm?: { x: number; y: number };
  /** false: no overlay.mp4 (segment-batch writes it only with --overlay). */
  overlay?: boolean;
}

/** 0/1 masks [F, H, W] as 3-channel 0/255 frames, the form upstream's mask AVI has. */
function masksToRgb(masks: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(masks.length * 3);
  for (let i = 0; i < masks.length; i++) if (masks[i]) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 255;
  return rgb;
}

function nearestErrors(detected: number[], truth: number[]): number[] {
  if (truth.length === 0) return [];
  return detected.map((d) =>
    truth.reduce((best, t) => (Math.abs(d - t) < Math.abs(best) ? d - t : best), d - truth[0]),
  );
}

/** Detected against true events of one kind; see TruthScore.ed. */
function matchEvents(
  detected: number[],
  truth: number[],
  countable: number[],
  tolerance: number,
): EventMatch {
  const found = new Set<number>();
  let spurious = 0;
  for (const d of detected) {
    const t = truth.reduce<number | undefined>(
      (best, x) => (best === undefined || Math.abs(d - x) < Math.abs(d - best) ? x : best),
      undefined,
    );
    if (t === undefined || Math.abs(d - t) > tolerance || found.has(t)) spurious++;
    else found.add(t);
  }
  return { countable: countable.length, missed: countable.filter((t) => !found.has(t)).length, spurious };
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
  const { inter, union } = overlap(masks, truth.masks);
  const edErrors = nearestErrors(
    analysis.beats.map((b) => b.ed),
    truth.edFrames,
  );
  const esErrors = nearestErrors(
    analysis.beats.map((b) => b.es),
    truth.esFrames,
  );
  const efPredicted = finiteOrNull(analysis.meanEf);
  const inside = (t: number) => t > 0 && t < truth.frames - 1;
  const tolerance = (0.25 * truth.fps * 60) / truth.heartRate; // a quarter of a beat, in frames
  const ed = matchEvents(
    analysis.beats.map((b) => b.ed),
    truth.edFrames,
    truth.edFrames.filter((t) => inside(t) && truth.esFrames.some((s) => s > t)),
    tolerance,
  );
  const es = matchEvents(
    analysis.beats.map((b) => b.es),
    truth.esFrames,
    truth.esFrames.filter((t) => inside(t) && truth.edFrames.some((e) => e < t)),
    tolerance,
  );
  return {
    dsc: finiteOrNull(diceFromOverlap(inter, union)),
    intersectionPx: inter,
    unionPx: union,
    trueEd: truth.edFrames,
    trueEs: truth.esFrames,
    edErrors,
    esErrors,
    meanAbsEdError: meanAbs(edErrors),
    meanAbsEsError: meanAbs(esErrors),
    beatsDetected: analysis.beats.length,
    ed,
    es,
    efTrue: truth.efTrue,
    efPredicted,
    efAbsError: efPredicted === null ? null : Math.abs(efPredicted - truth.efTrue),
  };
}

const seconds = (since: number): number => (Date.now() - since) / 1000;

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
 * Segments one video (DICOM or anything ffmpeg reads) and writes mask.avi, overlay.mp4,
 * frames.csv, area.svg and summary.json into `outDir`, all at the video's own frame size: frames
 * are mapped to the model's input (sector crop, frame-mapping.ts), masks mapped back.
 */
export async function segmentVideo(
  o: SegmentOptions,
  warn: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<SegmentSummary> {
  const t0 = Date.now();
  const { model } = o;
  const S = model.size;
  const videoPath = resolve(o.videoPath);
  const video = await openVideo(videoPath, { pixelSpacingMm: o.pixelSpacingMm });
  const { width: W, height: H, count, fps, spacing } = video;
  const tDecode = seconds(t0);

  const t1 = Date.now();
  const mode: WindowMode = o.overlap ? 'overlap' : 'upstream';
  let bar: Progress | undefined;
  const onWindows = (n: number, total: number) =>
    (bar ??= new Progress(`segment ${basename(videoPath)} (windows)`, total)).tick(n);
  const segmented = await segmentVideoFrames(video, model, {
    mode,
    batchSize: o.batchSize,
    crop: o.crop,
    spacing,
    onWindows: o.progress ? onWindows : undefined,
  }).finally(() => bar?.stop());
  const { mapping, preprocessing, analysis, masks } = segmented;
  if (mapping.mode === 'resize') warn(`${basename(videoPath)}: ${preprocessing.note}`);
  const tInfer = seconds(t1);

  const t2 = Date.now();
  const truth = loadTruth(o, warn);
  let truthScore: SegmentSummary['truth'];
  if (truth && 'error' in truth) truthScore = truth;
  else if (truth) {
    try {
      // Synthetic truth is at the model's size: scored on the native masks when they share it.
      const native = truth.width === W && truth.height === H;
      truthScore = native
        ? scoreAgainstTruth(masks, count, H, W, analysis, truth)
        : scoreAgainstTruth(segmented.modelMasks, count, S, S, analysis, truth);
    } catch (e) {
      warn(`${basename(videoPath)}: ground truth not scored: ${(e as Error).message}`);
      truthScore = { error: (e as Error).message };
    }
  }
  const gt =
    truth &&
    !('error' in truth) &&
    truthScore &&
    !('error' in truthScore) &&
    truth.width === W &&
    truth.height === H
      ? truth
      : undefined;
  const outDir = resolve(o.outDir);
  const outputs = Object.fromEntries(
    Object.entries(OUTPUT_FILES).map(([k, f]) => [k, join(outDir, f)]),
  ) as Record<Exclude<OutputKind, 'overlay'>, string> & { overlay?: string };
  if (o.overlay === false) delete outputs.overlay;
  await Promise.all([
    // FFV1 keeps the 0/255 masks exact (MJPEG would blur their edges); any ffmpeg/OpenCV reads it.
    encodeVideo(outputs.masks, masksToRgb(masks), { width: W, height: H, fps, codec: 'ffv1' }),
    outputs.overlay &&
      writeOverlayVideo(outputs.overlay, video, masks, {
        ...(gt ? { gtMasks: gt.masks } : {}),
        // Contours thick enough to see at native sizes (1 px at 112, 3 px at 640x480).
        thickness: Math.max(1, Math.round(Math.min(W, H) / 160)),
        annotations: {
          fps,
          beats: analysis.beats,
          area: spacing
            ? Array.from(analysis.smoothedArea, (a) => areaCm2(a, spacing))
            : analysis.smoothedArea,
          areaUnit: spacing ? 'cm2' : 'px',
        },
      }),
  ]);
  atomicWriteFile(outputs.frames, framesCsv(analysis, spacing ?? undefined));
  const plane = W * H;
  const contours = Array.from({ length: count }, (_, f) =>
    maskOutline(masks.subarray(f * plane, (f + 1) * plane), H, W),
  );
  // The LV outline of every frame as [x, y] pixel centres of the video's own frames, clockwise on screen.
  atomicWriteFile(outputs.contours, JSON.stringify({ width: W, height: H, frames: contours }) + '\n');
  atomicWriteFile(
    outputs.plot,
    areaPlotSvg(
      { ...analysis, trueEd: gt?.edFrames, trueEs: gt?.esFrames },
      { title: `LV area: ${basename(videoPath)}` },
    ),
  );
  const tWrite = seconds(t2);
  const total = seconds(t0);
  const summary = buildSummary({
    video: videoPath,
    source: video.source,
    model,
    mode,
    segmentation: segmented,
    count,
    spacing,
    truth: truthScore,
    // Relative to the summary's own folder: the results stay valid when the folder moves (off scratch).
    outputs: Object.fromEntries(Object.entries(outputs).map(([k, p]) => [k, relative(outDir, p)])),
    seconds: { decode: tDecode, inference: tInfer, write: tWrite, total },
  });
  atomicWriteFile(outputs.summary, JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
