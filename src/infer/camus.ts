/**
 * Segmenting one prepared CAMUS sequence (docs/camus.md#inference). Upstream feeds the whole
 * sequence (at most 32 frames after preprocessing) as one clip, padded to T frames with zeros
 * after normalisation, i.e. frames of the normalisation mean. Our models take uint8 frames and
 * normalise inside the graph, so the padding frames hold round(255 mean) per channel, whose
 * normalised value is within 0.01 of zero. A sequence longer than T*p frames (a model with T < 32)
 * is cut into upstream's whole-video windows (src/infer/windows.ts) after the same padding rule.
 *
 * 'upstream' grid: the frames are already the model's size. 'native' grid: each frame is mapped to
 * the model as segment-video maps a scanner's frames (sector crop, square padding, resize;
 * src/infer/frame-mapping.ts) and the fused probabilities are mapped back to the native grid.
 */
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import type { CamusGrid, PreparedCase } from '../data/camus/preprocess.js';
import { masksToNative, planMapping, toModelFrames, type MappingSummary } from './frame-mapping.js';
import type { RgbVideo } from './overlay.js';
import { segmentFrames, type ClipModel } from './segment-core.js';

export interface CamusSegmentation {
  /** 0/1 masks [count, height, width] on the prepared grid. */
  masks: Uint8Array;
  /** Frames fed to the model, padding included, and the windows over them. */
  paddedFrames: number;
  windows: number[][];
  /** The padding frames' uint8 value per channel. */
  padValue: number[];
  /** 'native': how frames were mapped to the model. */
  mapping?: MappingSummary;
}

/** Grey frames [count, H, W] as RGB frames [count, H, W, 3]. */
function greyToRgb(grey: Uint8Array, count: number, height: number, width: number): RgbVideo {
  const frames = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) frames[3 * i] = frames[3 * i + 1] = frames[3 * i + 2] = grey[i];
  return { frames, count, height, width, fps: 0 };
}

/** `video` followed by frames of `value` up to `count` frames. */
function padVideo(video: RgbVideo, count: number, value: number[]): RgbVideo {
  if (count <= video.count) return video;
  const frameBytes = video.height * video.width * 3;
  const frames = new Uint8Array(count * frameBytes);
  frames.set(video.frames);
  for (let i = video.count * frameBytes; i < frames.length; i += 3) frames.set(value, i);
  return { ...video, frames, count };
}

/**
 * What the model is fed for a prepared case: its frames (mapped to the model's square with
 * 'native'), then padding frames of round(255 mean) up to T*p frames.
 */
export function camusModelInput(
  p: PreparedCase,
  grid: CamusGrid,
  model: Pick<ClipModel, 'frames' | 'period' | 'size'> & { mean?: number[] },
): { video: RgbVideo; padValue: number[]; planned?: ReturnType<typeof planMapping> } {
  const { frames: T, period, size } = model;
  const video = greyToRgb(p.frames, p.count, p.height, p.width);
  let input = video;
  let planned: ReturnType<typeof planMapping> | undefined;
  if (grid === 'native') {
    planned = planMapping(video, size, { crop: true });
    input = toModelFrames(video, planned.mapping);
  } else if (p.height !== size || p.width !== size)
    throw new Error(`frames are ${p.width}x${p.height}, the model takes ${size}x${size}`);
  const padValue = (model.mean ?? ECHONET_NORMALISATION.mean).map((m) =>
    Math.min(255, Math.max(0, Math.round(255 * m))),
  );
  return {
    video: padVideo(input, Math.max(p.count, T * period), padValue),
    padValue,
    ...(planned ? { planned } : {}),
  };
}

export async function segmentCamusCase(
  p: PreparedCase,
  grid: CamusGrid,
  model: ClipModel & { mean?: number[] },
  batchSize = 4,
): Promise<CamusSegmentation> {
  const { video: padded, padValue, planned } = camusModelInput(p, grid, model);
  const out = await segmentFrames(padded, model, 'upstream', batchSize);
  const plane = model.size * model.size;
  let masks = out.masks.subarray(0, p.count * plane);
  if (planned) masks = masksToNative(out.probs.subarray(0, p.count * plane), masks, p.count, planned.mapping);
  return {
    masks: Uint8Array.from(masks),
    paddedFrames: padded.count,
    windows: out.windows,
    padValue,
    ...(planned ? { mapping: planned.summary } : {}),
  };
}
