/**
 * How a native video frame becomes the model's square input, and how masks come back:
 *  - 'identity': the frame already has the model's size (EchoNet-Dynamic's AVIs were preprocessed
 *    this way), it is used as it is;
 *  - 'sector': EchoNet-style preprocessing. Pixels outside the ultrasound sector (text, ECG, scale)
 *    are blanked, the sector's bounding box is widened to a square (the sector's top kept at the
 *    top, where the probe's apex is in the training data; padding below or at the sides, black
 *    where it leaves the frame) and that square is resized to the model's size: the aspect ratio
 *    is kept, never stretched;
 *  - 'resize': the whole frame is resized to the model's size (`--no-crop`, or no sector found in
 *    a square frame); the aspect ratio is not kept.
 * Masks come back by resampling the fused probabilities from model space onto the native grid
 * (bilinear, area-averaged where the native grid is coarser), thresholding at 1/2 and clearing
 * what lies outside the sector. Browser-safe: no Node imports.
 */
import { resampleRect, type Rect } from '../data/resample.js';
import type { RgbVideo } from './overlay.js';
import { findSector, type Sector } from './sector.js';

export type MappingMode = 'identity' | 'sector' | 'resize';

export interface FrameMapping {
  mode: MappingMode;
  /** Native frame size. */
  width: number;
  height: number;
  /** Model input side. */
  size: number;
  /** The native rectangle (pixels, may reach past the frame) that becomes the model's input square. */
  rect: Rect;
  /** Native [height, width] 0/1 sector mask (blanked outside, masks cleared outside), or null. */
  sector: Uint8Array | null;
}

/** What summary.json records of the mapping. */
export interface MappingSummary {
  mode: MappingMode;
  /** The crop in native pixels (x, y: top-left corner, w x h: its size). */
  crop: Rect;
  /** Native pixels per model pixel along x and y. */
  scale: { x: number; y: number };
  sector: { box: Sector['box']; fraction: number } | null;
  note: string;
}

export interface PlanOptions {
  /** false: `--no-crop` (whole frame resized). Default: crop to the sector unless the frame already has the model's size. */
  crop?: boolean;
}

/** The square around a sector's bounding box: centred across, the sector's top at the top. */
export function sectorSquare(box: Sector['box']): Rect {
  const w = box.x1 - box.x0 + 1;
  const h = box.y1 - box.y0 + 1;
  const side = Math.max(w, h);
  return { x: box.x0 - Math.floor((side - w) / 2), y: box.y0, w: side, h: side };
}

export function planMapping(
  video: RgbVideo,
  size: number,
  opts: PlanOptions = {},
): { mapping: FrameMapping; summary: MappingSummary } {
  const { width, height } = video;
  const whole: Rect = { x: 0, y: 0, w: width, h: height };
  const base = { width, height, size };
  let mapping: FrameMapping;
  let sector: Sector | null = null;
  let note: string;
  if (width === size && height === size && opts.crop !== true) {
    mapping = { ...base, mode: 'identity', rect: whole, sector: null };
    note = `frames already ${size}x${size}: used as they are`;
  } else if (opts.crop === false) {
    mapping = { ...base, mode: 'resize', rect: whole, sector: null };
    note = `--no-crop: whole ${width}x${height} frames resized to ${size}x${size}${width === height ? '' : ' (aspect ratio not kept)'}`;
  } else {
    sector = findSector(video);
    if (sector) {
      const rect = sectorSquare(sector.box);
      mapping = { ...base, mode: 'sector', rect, sector: sector.mask };
      note = `sector ${sector.box.x1 - sector.box.x0 + 1}x${sector.box.y1 - sector.box.y0 + 1} at (${sector.box.x0}, ${sector.box.y0}); outside blanked, ${rect.w}x${rect.h} square at (${rect.x}, ${rect.y}) resized to ${size}x${size}`;
    } else {
      // No changing region: keep the aspect ratio by padding the whole frame to a square.
      const side = Math.max(width, height);
      const rect = {
        x: -Math.floor((side - width) / 2),
        y: -Math.floor((side - height) / 2),
        w: side,
        h: side,
      };
      mapping = { ...base, mode: 'resize', rect, sector: null };
      note = `no ultrasound sector found (no large region changes over time): whole frame padded to ${side}x${side} and resized to ${size}x${size}`;
    }
  }
  return {
    mapping,
    summary: {
      mode: mapping.mode,
      crop: mapping.rect,
      scale: { x: mapping.rect.w / size, y: mapping.rect.h / size },
      sector: sector ? { box: sector.box, fraction: sector.fraction } : null,
      note,
    },
  };
}

/** The model's input frames [count, size, size, 3]: blanked outside the sector, cropped and resized. */
export function toModelFrames(video: RgbVideo, m: FrameMapping): RgbVideo {
  if (m.mode === 'identity') return video;
  const { width, height, size } = m;
  const plane = width * height;
  const out = new Uint8Array(video.count * size * size * 3);
  const blanked = m.sector ? new Uint8Array(plane * 3) : undefined;
  for (let f = 0; f < video.count; f++) {
    let frame = video.frames.subarray(f * plane * 3, (f + 1) * plane * 3);
    if (blanked && m.sector) {
      for (let i = 0; i < plane; i++) {
        const keep = m.sector[i];
        blanked[3 * i] = keep ? frame[3 * i] : 0;
        blanked[3 * i + 1] = keep ? frame[3 * i + 1] : 0;
        blanked[3 * i + 2] = keep ? frame[3 * i + 2] : 0;
      }
      frame = blanked;
    }
    resampleRect(
      frame,
      height,
      width,
      3,
      m.rect,
      size,
      size,
      out.subarray(f * size * size * 3, (f + 1) * size * size * 3),
    );
  }
  return { frames: out, count: video.count, height: size, width: size, fps: video.fps };
}

/**
 * Native masks [count, height, width] from model-space probabilities [count, size, size]; for
 * 'identity' the model's own masks are returned unchanged.
 */
export function masksToNative(
  probs: Float32Array,
  masks: Uint8Array,
  count: number,
  m: FrameMapping,
): Uint8Array {
  if (m.mode === 'identity') return masks;
  const { width, height, size, rect } = m;
  const plane = width * height;
  // The native frame seen from model space: where it starts and how much of model space it spans.
  const sx = size / rect.w;
  const sy = size / rect.h;
  const view: Rect = { x: -rect.x * sx, y: -rect.y * sy, w: width * sx, h: height * sy };
  const out = new Uint8Array(count * plane);
  const native = new Float32Array(plane);
  for (let f = 0; f < count; f++) {
    resampleRect(
      probs.subarray(f * size * size, (f + 1) * size * size),
      size,
      size,
      1,
      view,
      height,
      width,
      native,
    );
    const at = f * plane;
    for (let i = 0; i < plane; i++) out[at + i] = native[i] >= 0.5 && (!m.sector || m.sector[i]) ? 1 : 0;
  }
  return out;
}

/** Native pixels per model pixel, one number for the method of discs (geometric mean of the axes). */
export function nativePixelsPerModelPixel(m: FrameMapping): number {
  return Math.sqrt((m.rect.w / m.size) * (m.rect.h / m.size));
}

/**
 * A point in the native frame's pixel coordinates (pixel centres at integers, as tracings are
 * written) in the model input's coordinates: the inverse of the resampling's own geometry.
 */
export function nativeToModelPoint(m: FrameMapping, x: number, y: number): [number, number] {
  const { rect, size } = m;
  return [((x + 0.5 - rect.x) * size) / rect.w - 0.5, ((y + 0.5 - rect.y) * size) / rect.h - 0.5];
}

/** VolumeTracings rows `[x1, y1, x2, y2]` of a native frame in the model input's coordinates. */
export function tracingToModel(m: FrameMapping, rows: number[][]): number[][] {
  if (m.mode === 'identity') return rows;
  return rows.map(([x1, y1, x2, y2]) => [...nativeToModelPoint(m, x1, y1), ...nativeToModelPoint(m, x2, y2)]);
}
