import { Rng } from '../util/rng.js';
import { augmentClip, sampleAugParams } from './augment/index.js';
import { centredClipStart, clipIndices, padLength, randomClipStart, sslClipStart } from './clips.js';
import type { EchoVideo } from './echonet.js';
import { DataError } from './errors.js';
import { sampleKeep } from './masking.js';
import { tracingToMask } from './polygon.js';
import { resampleRect } from './resample.js';
import type { DecodedVideo } from './video.js';
import { FRAME_SIZE, type Phase } from '../defaults.js';

export type Which = 'ed' | 'es';

/**
 * A weakly supervised sample: a clip and the mask of its one traced frame (docs/upstream.md#clip-sampling).
 */
export interface WeakSample {
  /** uint8 RGB [T, 112, 112, 3]. */
  frames: Uint8Array;
  /** The traced frame's mask [112, 112], 1 inside. */
  traceMask: Float32Array;
  /** Clip position of the traced frame (upstream `rel_trace_index`). */
  relIndex: number;
  /** The traced frame's index in the video. */
  traceFrame: number;
  fileName: string;
  which: Which;
}

/** What an SSL sample needs of a video: no tracings (an EchoVideo is one too). */
export type SslVideo = Pick<EchoVideo, 'path' | 'fileName'>;

/** A self-supervised sample: a clean clip and which frames stay visible (docs/upstream.md#3d-masking). */
export interface SslSample {
  frames: Uint8Array;
  /** [T]: 1 visible, 0 masked (blacked out inside the train graph). */
  keep: Float32Array;
  fileName: string;
}

/** Reject decoded frames the models cannot take, naming the file. */
function checkFrames(video: { path: string }, frames: DecodedVideo, size = FRAME_SIZE): void {
  if (frames.height !== size || frames.width !== size) {
    throw new DataError(
      video.path,
      `frames are ${frames.width}x${frames.height}, the models need ${size}x${size}`,
    );
  }
  if (frames.count < 1) throw new DataError(video.path, 'video has no frames');
}

/**
 * Copy the frames at `indices` into one clip [T, H, W, 3]. Indices past the end read the raw black
 * (uint8 0) frames upstream appends to videos shorter than T*p (docs/upstream.md#short-videos); the padded
 * video is never materialised.
 */
export function gatherClip(v: DecodedVideo, indices: number[]): Uint8Array {
  const fb = v.height * v.width * 3;
  const out = new Uint8Array(indices.length * fb);
  indices.forEach((idx, k) => {
    if (idx < v.count) out.set(v.frames.subarray(idx * fb, (idx + 1) * fb), k * fb);
  });
  return out;
}

/** One traced frame: which it is, its index in the video and its VolumeTracings rows. */
export interface TracedFrame {
  which: Which;
  frame: number;
  rows: number[][];
}

/**
 * The clip around one traced frame: training draws a random clip containing it and augments
 * clip and mask with one parameter set; evaluation takes the centred clip as it is. Frames and
 * tracings are at EchoNet's 112 pixels; a smaller model `size` gets the prepared clip shrunk.
 */
export function weakSample(
  video: EchoVideo,
  frames: DecodedVideo,
  which: Which,
  T: number,
  p: number,
  train: boolean,
  rng: Rng,
  size = FRAME_SIZE,
): WeakSample {
  const trace =
    which === 'ed'
      ? { which, frame: video.edFrame, rows: video.edRows }
      : { which, frame: video.esFrame, rows: video.esRows };
  const s = tracedFrameSample(video, frames, trace, T, p, train, rng);
  if (size !== FRAME_SIZE)
    [s.frames, s.traceMask] = [shrinkClip(s.frames, T, size), shrinkMask(s.traceMask, size)];
  return s;
}

/**
 * weakSample for any traced frame of frames at the model's `size` (the browser viewer's tracings
 * of videos mapped to the model's input): the same clip choice, mask and augmentation.
 */
export function tracedFrameSample(
  video: { path: string; fileName: string },
  frames: DecodedVideo,
  trace: TracedFrame,
  T: number,
  p: number,
  train: boolean,
  rng: Rng,
  size = FRAME_SIZE,
): WeakSample {
  checkFrames(video, frames, size);
  const { which, frame: ti } = trace;
  if (ti >= frames.count) {
    throw new DataError(
      video.path,
      `traced ${which.toUpperCase()} frame ${ti} is past the end of the video (${frames.count} frames)`,
    );
  }
  const f = padLength(frames.count, T, p);
  const start = train ? randomClipStart(rng, ti, f, T, p) : centredClipStart(ti, f, T, p);
  let clip = gatherClip(frames, clipIndices(start, T, p));
  let traceMask: Float32Array = Float32Array.from(tracingToMask(trace.rows, size, size));
  if (train) {
    const aug = augmentClip(clip, T, size, size, sampleAugParams(rng, size, size), traceMask);
    clip = aug.frames;
    traceMask = aug.mask!;
  }
  return {
    frames: clip,
    traceMask,
    relIndex: (ti - start) / p,
    traceFrame: ti,
    fileName: video.fileName,
    which,
  };
}

const WHOLE_FRAME = { x: 0, y: 0, w: FRAME_SIZE, h: FRAME_SIZE };

/**
 * A prepared clip [T, 112, 112, 3] at a model's smaller frame side (`--size`, e.g. 64 for cheap
 * studies), by area averaging: sampling, augmentation and tracings stay at EchoNet's 112 pixels.
 */
export function shrinkClip(clip: Uint8Array, T: number, size: number): Uint8Array {
  const inFrame = FRAME_SIZE * FRAME_SIZE * 3;
  const outFrame = size * size * 3;
  const out = new Uint8Array(T * outFrame);
  for (let t = 0; t < T; t++)
    resampleRect(
      clip.subarray(t * inFrame, (t + 1) * inFrame),
      FRAME_SIZE,
      FRAME_SIZE,
      3,
      WHOLE_FRAME,
      size,
      size,
      out.subarray(t * outFrame, (t + 1) * outFrame),
    );
  return out;
}

/** A 112x112 mask at `size`: a pixel is inside where more than half of its area was. */
export function shrinkMask(mask: Float32Array, size: number): Float32Array {
  const share = resampleRect(mask, FRAME_SIZE, FRAME_SIZE, 1, WHOLE_FRAME, size, size);
  return share.map((v) => (v > 0.5 ? 1 : 0));
}

/** An unconstrained clip (random also in validation, like upstream), augmented in training. */
export function sslSample(
  video: SslVideo,
  frames: DecodedVideo,
  T: number,
  p: number,
  maskRatio: number,
  train: boolean,
  rng: Rng,
  size = FRAME_SIZE,
): SslSample {
  checkFrames(video, frames);
  const start = sslClipStart(rng, padLength(frames.count, T, p), T, p);
  let clip = gatherClip(frames, clipIndices(start, T, p));
  if (train) clip = augmentClip(clip, T, FRAME_SIZE, FRAME_SIZE, sampleAugParams(rng)).frames;
  if (size !== FRAME_SIZE) clip = shrinkClip(clip, T, size);
  return { frames: clip, keep: sampleKeep(rng, T, maskRatio), fileName: video.fileName };
}

/** One entry of an epoch's sample list. */
export interface SampleRef {
  video: number;
  which?: Which;
}

/**
 * The sample list (docs/upstream.md#video-list step 6): weak supervision has two per video, ED
 * ("large_trace") then ES ("small_trace"); SSL has one per video.
 */
export function sampleList(videoCount: number, phase: Phase): SampleRef[] {
  const out: SampleRef[] = [];
  for (let v = 0; v < videoCount; v++) {
    if (phase === 'ssl') out.push({ video: v });
    else out.push({ video: v, which: 'ed' }, { video: v, which: 'es' });
  }
  return out;
}

/** Everything that decides a sample besides the video: shared by the loader and its workers. */
export interface SampleConfig {
  phase: Phase;
  frames: number;
  period: number;
  /** Random clips containing the trace plus augmentation (training) or centred clips as they are. */
  train: boolean;
  seed: number;
  /** SSL only: fraction of frames masked. */
  maskRatio: number;
  /** The model's frame side (112 unless a study trains smaller models, see shrinkClip). */
  size?: number;
}

/**
 * Sample `index` of the sample list in epoch `epoch`. Its random stream is
 * Rng.derive(seed, epoch, index): the same whichever worker prepares it, in whatever order.
 */
export async function prepareSample(
  videos: readonly SslVideo[],
  cache: { getFrames(v: { path: string }): Promise<DecodedVideo> },
  cfg: SampleConfig,
  epoch: number,
  index: number,
  ref: SampleRef,
): Promise<WeakSample | SslSample> {
  const video = videos[ref.video];
  const frames = await cache.getFrames(video);
  const rng = Rng.derive(cfg.seed, epoch, index);
  if (cfg.phase === 'ssl')
    return sslSample(video, frames, cfg.frames, cfg.period, cfg.maskRatio, cfg.train, rng, cfg.size);
  if (!('edRows' in video)) throw new Error(`weak samples need traced videos; ${video.path} has no tracings`);
  return weakSample(
    video as EchoVideo,
    frames,
    ref.which ?? 'ed',
    cfg.frames,
    cfg.period,
    cfg.train,
    rng,
    cfg.size,
  );
}
