// Contours of LV masks drawn on RGB frames; pure array code, shared by segment-video, the
// evaluation gallery and the browser viewer (the video writer is in overlay-video.ts).
import type { Rgb } from '../util/raster.js';
import { annotateFrame, type OverlayAnnotations } from './overlay-annotate.js';

export type { Rgb };

/** Predicted contour colour: green; ground truth: magenta (a pair that stays distinct for colour-blind readers). */
export const PRED_COLOR: Rgb = [0, 255, 0];
export const GT_COLOR: Rgb = [255, 0, 255];

export interface OverlayOptions {
  /** Contour colour of the predicted masks (default green). */
  color?: Rgb;
  /** Contour width in pixels, drawn inwards from the mask edge (default 1). */
  thickness?: number;
  /** Optional ground-truth masks [F,H,W] drawn in a second colour under the prediction. */
  gtMasks?: Uint8Array;
  gtColor?: Rgb;
  /** Frame number, ED/ES markers and the running area curve (overlay-annotate.ts). */
  annotations?: OverlayAnnotations;
}

/**
 * The mask's contour: mask pixels within `thickness` 4-neighbour erosion steps of the outside.
 * Thickness 1 is the inner boundary (a mask pixel with a 4-neighbour outside the mask); pixels
 * outside the image count as outside, so masks touching the border are closed there.
 */
export function contourPixels(mask: Uint8Array, height: number, width: number, thickness = 1): Uint8Array {
  let inside: Uint8Array = Uint8Array.from(mask, (v) => (v > 0 ? 1 : 0));
  const contour = new Uint8Array(height * width);
  for (let step = 0; step < thickness; step++) {
    const eroded = new Uint8Array(height * width);
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const i = r * width + c;
        if (!inside[i]) continue;
        const interior =
          r > 0 &&
          r < height - 1 &&
          c > 0 &&
          c < width - 1 &&
          inside[i - width] &&
          inside[i + width] &&
          inside[i - 1] &&
          inside[i + 1];
        if (interior) eroded[i] = 1;
        else contour[i] = 1;
      }
    }
    inside = eroded;
  }
  return contour;
}

/** Paint the contour of `mask` onto one RGB frame [H,W,3], in place. */
export function drawContour(
  rgb: Uint8Array,
  mask: Uint8Array,
  height: number,
  width: number,
  color: Rgb,
  thickness = 1,
): void {
  const contour = contourPixels(mask, height, width, thickness);
  for (let i = 0; i < contour.length; i++) {
    if (!contour[i]) continue;
    rgb[3 * i] = color[0];
    rgb[3 * i + 1] = color[1];
    rgb[3 * i + 2] = color[2];
  }
}

/**
 * Copies of `frames` (RGB24 [F,H,W,3]) with the contours of `masks` ([F,H,W], > 0 inside) drawn
 * on each frame; the ground truth, if given, first so the prediction stays visible where they meet.
 */
export function overlayFrames(
  frames: Uint8Array,
  masks: Uint8Array,
  count: number,
  height: number,
  width: number,
  opts: OverlayOptions = {},
): Uint8Array {
  const plane = height * width;
  if (frames.length !== count * plane * 3)
    throw new Error(`frames hold ${frames.length} bytes, expected ${count}x${height}x${width}x3`);
  if (masks.length !== count * plane)
    throw new Error(`masks hold ${masks.length} values, expected ${count}x${height}x${width}`);
  if (opts.gtMasks && opts.gtMasks.length !== count * plane)
    throw new Error('ground-truth masks do not match the frames');
  const out = Uint8Array.from(frames);
  const thickness = opts.thickness ?? 1;
  for (let f = 0; f < count; f++) {
    const rgb = out.subarray(f * plane * 3, (f + 1) * plane * 3);
    if (opts.gtMasks)
      drawContour(
        rgb,
        opts.gtMasks.subarray(f * plane, (f + 1) * plane),
        height,
        width,
        opts.gtColor ?? GT_COLOR,
        thickness,
      );
    drawContour(
      rgb,
      masks.subarray(f * plane, (f + 1) * plane),
      height,
      width,
      opts.color ?? PRED_COLOR,
      thickness,
    );
    if (opts.annotations) annotateFrame({ rgb, height, width }, f, opts.annotations);
  }
  return out;
}

/** Nearest-neighbour upscaling of an interleaved [H,W,channels] image by an integer factor. */
export function upscaleNearest(
  data: Uint8Array,
  height: number,
  width: number,
  channels: number,
  factor: number,
): Uint8Array {
  const W2 = width * factor;
  const out = new Uint8Array(height * factor * W2 * channels);
  for (let r = 0; r < height * factor; r++) {
    const sr = Math.floor(r / factor);
    for (let c = 0; c < W2; c++) {
      const src = (sr * width + Math.floor(c / factor)) * channels;
      const dst = (r * W2 + c) * channels;
      for (let k = 0; k < channels; k++) out[dst + k] = data[src + k];
    }
  }
  return out;
}

/** A decoded video as `decodeVideo` returns it. */
export interface RgbVideo {
  frames: Uint8Array;
  count: number;
  height: number;
  width: number;
  fps: number;
}
