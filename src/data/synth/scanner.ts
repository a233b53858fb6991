/**
 * A synthetic echo as a scanner screen shows it: the sector picture scaled into a larger canvas,
 * off-centre, with what scanners draw around it: static text, a depth scale, a running clock, an
 * ECG trace swept across a strip below the picture with a moving cursor. Used to test sector
 * finding and DICOM input (tools/make-dicom-fixtures.ts writes DICOM files from it).
 */
import { resampleRect, type Rect } from '../resample.js';
import {
  drawLine,
  drawText,
  fillRect,
  GLYPH_HEIGHT,
  textWidth,
  type Canvas,
  type Rgb,
} from '../../util/raster.js';

export interface ScannerLayout {
  width: number;
  height: number;
  /** Where the sector picture goes, its width in pixels, and its height (default: square). */
  x: number;
  y: number;
  size: number;
  h?: number;
}

export interface ScannerVideo {
  /** RGB24 [count, height, width, 3]. */
  frames: Uint8Array;
  /** The LV masks moved the same way, [count, height, width], 1 inside (when masks were given). */
  masks?: Uint8Array;
  count: number;
  height: number;
  width: number;
  fps: number;
  /** The rectangle the sector picture occupies. */
  content: Rect;
}

const WHITE: Rgb = [235, 235, 235];
const ECG_GREEN: Rgb = [40, 210, 60];
const CURSOR_YELLOW: Rgb = [250, 220, 40];

/** An ECG-like wave over one beat (phase 0..1): P wave, QRS spike, T wave; -1..1. */
function ecgWave(phase: number): number {
  const g = (mu: number, sigma: number) => Math.exp(-(((phase - mu) / sigma) ** 2) / 2);
  return (
    0.15 * g(0.12, 0.025) -
    0.12 * g(0.24, 0.008) +
    1 * g(0.26, 0.01) -
    0.25 * g(0.28, 0.01) +
    0.3 * g(0.55, 0.05)
  );
}

/**
 * Colours in horizontal pixel pairs: a 4:2:2 scanner stores one colour per pair, so overlays
 * drawn this way survive YBR_FULL_422 storage up to colour-space rounding.
 */
function pairColours(c: Canvas): void {
  for (let r = 0; r < c.height; r++)
    for (let x = 0; x + 1 < c.width; x += 2) {
      const a = 3 * (r * c.width + x);
      const b = a + 3;
      const grey = (i: number) => c.rgb[i] === c.rgb[i + 1] && c.rgb[i + 1] === c.rgb[i + 2];
      if (!grey(a)) c.rgb.copyWithin(b, a, a + 3);
      else if (!grey(b)) c.rgb.copyWithin(a, b, b + 3);
    }
}

/**
 * `video` (RGB24 frames, any size) scaled to `size` x `h` and placed into a `layout` canvas with scanner overlays.
 * `masks` ([count, h, w] of the source) are resampled the same way and thresholded at one half.
 */
export function scannerCanvas(
  video: { frames: Uint8Array; count: number; height: number; width: number; fps: number },
  layout: ScannerLayout,
  masks?: Uint8Array,
): ScannerVideo {
  const { width: W, height: H, x, y, size } = layout;
  const tall = layout.h ?? size;
  if (x < 0 || y < 0 || x + size > W || y + tall > H)
    throw new Error(`a ${size}x${tall} picture at (${x}, ${y}) does not fit a ${W}x${H} canvas`);
  const full: Rect = { x: 0, y: 0, w: video.width, h: video.height };
  const plane = H * W;
  const frames = new Uint8Array(video.count * plane * 3);
  const outMasks = masks ? new Uint8Array(video.count * plane) : undefined;
  const scale = Math.max(1, Math.floor(H / 160));
  const band = { top: y + tall + 2 * scale, bottom: H - 2 * scale };
  const beat = Math.round(video.fps * 0.8);
  const sweepPerFrame = Math.max(1, Math.round(W / (3 * beat))); // three beats per sweep
  const ecgY = (t: number) =>
    Math.round((band.top + band.bottom) / 2 - ecgWave((t % beat) / beat) * (band.bottom - band.top) * 0.4);
  const srcPlane = video.height * video.width;
  for (let f = 0; f < video.count; f++) {
    const c: Canvas = { rgb: frames.subarray(f * plane * 3, (f + 1) * plane * 3), height: H, width: W };
    const picture = resampleRect(
      video.frames.subarray(f * srcPlane * 3, (f + 1) * srcPlane * 3),
      video.height,
      video.width,
      3,
      full,
      tall,
      size,
    );
    for (let r = 0; r < tall; r++)
      c.rgb.set(picture.subarray(r * size * 3, (r + 1) * size * 3), 3 * ((y + r) * W + x));
    if (masks && outMasks) {
      const m = Uint8Array.from(masks.subarray(f * srcPlane, (f + 1) * srcPlane), (v) => (v ? 255 : 0));
      const moved = resampleRect(m, video.height, video.width, 1, full, tall, size);
      for (let r = 0; r < tall; r++)
        for (let k = 0; k < size; k++)
          outMasks[f * plane + (y + r) * W + x + k] = moved[r * size + k] >= 128 ? 1 : 0;
    }
    // Static labels and a depth scale left of the picture.
    drawText(c, 'UNILVSEG', 2 * scale, 2 * scale, WHITE, scale);
    drawText(c, 'A4C', 2 * scale, (4 + GLYPH_HEIGHT) * scale, WHITE, scale);
    if (x >= 4 * scale)
      for (let d = 0; d <= 8; d++)
        fillRect(c, x - 3 * scale, y + Math.round((d * (tall - scale)) / 8), 2 * scale, scale, WHITE);
    // A label in the picture square's top-left corner, which the fan does not reach.
    if (size >= 200) drawText(c, '4C', x + 4 * scale, y + 2 * scale, WHITE, scale);
    // A running clock in the top-right corner.
    const clock = `T${(f / video.fps).toFixed(2)}`;
    drawText(c, clock, W - textWidth(clock, scale) - 2 * scale, 2 * scale, WHITE, scale);
    // ECG swept left to right, the previous sweep still showing past a small gap.
    if (band.bottom - band.top >= 6) {
      const head = (f * sweepPerFrame) % W;
      const sweep = Math.floor((f * sweepPerFrame) / W);
      const timeAt = (px: number, s: number) => (s * W + px) / sweepPerFrame;
      for (let px = 1; px < W; px++) {
        if (px > head && px <= head + 4 * scale) continue;
        const s = px <= head ? sweep : sweep - 1;
        if (s < 0) continue;
        drawLine(c, px - 1, ecgY(timeAt(px - 1, s)), px, ecgY(timeAt(px, s)), ECG_GREEN, scale);
      }
      fillRect(c, head - scale, ecgY(timeAt(head, sweep)) - scale, 3 * scale, 3 * scale, CURSOR_YELLOW);
    }
    pairColours(c);
  }
  return {
    frames,
    masks: outMasks,
    count: video.count,
    height: H,
    width: W,
    fps: video.fps,
    content: { x, y, w: size, h: tall },
  };
}
