/**
 * Finding the ultrasound sector of a scanner video, as EchoNet-Dynamic's preprocessing isolated
 * it: the picture is the large region whose pixels change over time (speckle, moving walls);
 * text, scales and logos are constant, and the ECG trace and cursors are coloured. The sector is
 * the convex hull of the largest connected region of changing grey pixels (a fan is convex, and
 * the hull takes in the dark, nearly constant blood pools and deep field inside it).
 * Browser-safe: no Node imports.
 */
import { fillPolygon } from '../data/polygon.js';
import { convexHull, largestComponent, onBoundary } from './cardiac/mask-geometry.js';
import type { RgbVideo } from './overlay.js';

export interface Sector {
  /** 0/1 [height, width]: inside the sector. */
  mask: Uint8Array;
  /** Bounding box, inclusive pixel indices. */
  box: { x0: number; y0: number; x1: number; y1: number };
  /** Share of the frame the sector covers. */
  fraction: number;
}

export const SECTOR_DEFAULTS = {
  /** Frames sampled (evenly) to measure change over time. */
  sampleFrames: 48,
  /** A pixel changes if its grey level spans more than this over the sampled frames. */
  minRange: 12,
  /** A pixel is coloured (overlay) if max - min of its channels exceeds this in some frame. */
  minChroma: 40,
  /**
   * Coloured pixels are overlay unless they are this share of the changing ones or more (then
   * the picture itself is tinted, as some scanners' grey maps are).
   */
  tintedShare: 0.25,
  /** Below this share of the frame, no sector was found. */
  minFraction: 0.02,
};

/** 3x3 erosion (`grow` false) or dilation (`grow` true) of a 0/1 mask; outside counts as 0. */
function morph(mask: Uint8Array, height: number, width: number, grow: boolean): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let any = false;
      let all = true;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          const v = yy >= 0 && yy < height && xx >= 0 && xx < width ? mask[yy * width + xx] : 0;
          any ||= v > 0;
          all &&= v > 0;
        }
      out[y * width + x] = (grow ? any : all) ? 1 : 0;
    }
  return out;
}

/** The sector of `video`, or null when no changing region of at least minFraction exists. */
export function findSector(video: RgbVideo, opts: Partial<typeof SECTOR_DEFAULTS> = {}): Sector | null {
  const o = { ...SECTOR_DEFAULTS, ...opts };
  const { count, height, width } = video;
  const plane = height * width;
  if (count < 2) return null;
  const lo = new Uint8Array(plane).fill(255);
  const hi = new Uint8Array(plane);
  const coloured = new Uint8Array(plane);
  const samples = Math.min(count, o.sampleFrames);
  for (let s = 0; s < samples; s++) {
    const f = Math.round((s * (count - 1)) / Math.max(1, samples - 1));
    const rgb = video.frames.subarray(f * plane * 3, (f + 1) * plane * 3);
    for (let i = 0; i < plane; i++) {
      const r = rgb[3 * i];
      const g = rgb[3 * i + 1];
      const b = rgb[3 * i + 2];
      const grey = (r * 77 + g * 150 + b * 29) >> 8;
      if (grey < lo[i]) lo[i] = grey;
      if (grey > hi[i]) hi[i] = grey;
      if (Math.max(r, g, b) - Math.min(r, g, b) > o.minChroma) coloured[i] = 1;
    }
  }
  let changing: Uint8Array = new Uint8Array(plane);
  let nChanging = 0;
  let nColoured = 0;
  for (let i = 0; i < plane; i++)
    if (hi[i] - lo[i] > o.minRange) {
      changing[i] = 1;
      nChanging++;
      nColoured += coloured[i];
    }
  if (nColoured < o.tintedShare * nChanging) for (let i = 0; i < plane; i++) if (coloured[i]) changing[i] = 0;
  // Opening drops thin changing lines and specks (a white ECG trace, a blinking cursor).
  changing = morph(morph(changing, height, width, false), height, width, true);
  const region = largestComponent(changing, height, width);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < plane; i++)
    if (region[i]) {
      const x = i % width;
      const y = (i - x) / width;
      if (onBoundary(region, height, width, x, y)) {
        xs.push(x);
        ys.push(y);
      }
    }
  let regionSize = 0;
  for (let i = 0; i < plane; i++) regionSize += region[i];
  if (regionSize < o.minFraction * plane) return null;
  const hull = convexHull(xs.map((x, k) => [x, ys[k]] as [number, number]));
  const mask = fillPolygon(
    hull.map((p) => p[0]),
    hull.map((p) => p[1]),
    height,
    width,
  );
  const box = { x0: width, y0: height, x1: -1, y1: -1 };
  let inside = 0;
  for (let i = 0; i < plane; i++)
    if (mask[i]) {
      const x = i % width;
      const y = (i - x) / width;
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x);
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y);
      inside++;
    }
  return { mask, box, fraction: inside / plane };
}
