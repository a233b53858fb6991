import { PNG } from 'pngjs';
import { tracingToMask } from '../data/polygon.js';
import { decodeVideo, type DecodedVideo } from '../data/video.js';
import { readMaskPng } from '../infer/png-masks.js';
import { GT_COLOR, PRED_COLOR, drawContour, upscaleNearest } from '../infer/overlay.js';
import { openEchoNet } from '../data/echonet.js';
import { FRAME_SIZE } from '../defaults.js';
import type { Evaluation } from './evaluate.js';

/** One worst-case frame, ready for the HTML report. */
export interface GalleryCase {
  fileName: string;
  phase: 'ED' | 'ES';
  frame: number;
  dice: number;
  /** PNG data URI: the echo frame (or a dark background) with GT and predicted contours. */
  image: string;
  /** Set when the video could not be decoded and the masks are shown alone. */
  note?: string;
}

const SCALE = 3;

/**
 * A PNG of one frame enlarged `scale` times, with the GT contour (magenta) and the predicted
 * contour (green) traced on the enlarged masks so the lines stay one enlarged pixel apart.
 * Without an echo frame the masks are drawn on dark gray, the GT area lightly filled.
 */
export function renderCasePng(
  rgb: Uint8Array | null,
  gt: Uint8Array,
  pred: Uint8Array,
  height: number,
  width: number,
  scale = SCALE,
): Buffer {
  let base = rgb;
  if (!base) {
    base = new Uint8Array(height * width * 3).fill(40);
    for (let i = 0; i < gt.length; i++) if (gt[i]) base.fill(80, 3 * i, 3 * i + 3);
  }
  const big = upscaleNearest(base, height, width, 3, scale);
  const H = height * scale;
  const W = width * scale;
  drawContour(big, upscaleNearest(gt, height, width, 1, scale), H, W, GT_COLOR, 2);
  drawContour(big, upscaleNearest(pred, height, width, 1, scale), H, W, PRED_COLOR, 2);
  const png = new PNG({ width: W, height: H, colorType: 2, inputColorType: 2, bitDepth: 8 });
  png.data = Buffer.from(big.buffer, big.byteOffset, big.length);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, bitDepth: 8 });
}

/**
 * The `count` frames with the lowest DSC (frames where both masks are empty are perfect and never
 * shown), each decoded from its video; a video that cannot be decoded yields the masks alone.
 */
export async function buildGallery(ev: Evaluation, count: number): Promise<GalleryCase[]> {
  const frames = ev.videos
    .flatMap((v) => [
      { v, phase: 'ED' as const, s: v.large },
      { v, phase: 'ES' as const, s: v.small },
    ])
    .filter((f) => Number.isFinite(f.s.dice));
  frames.sort((a, b) => a.s.dice - b.s.dice || a.v.fileName.localeCompare(b.v.fileName));
  const worst = frames.slice(0, Math.max(0, count));
  if (worst.length === 0) return [];
  // The GT rows come from the dataset again rather than being kept for every video.
  const byName = new Map(
    openEchoNet(ev.settings.dataDir, ev.settings.split, { onBadItem: () => {} }).map((v) => [v.fileName, v]),
  );
  const decoded = new Map<string, DecodedVideo | Error>();
  const out: GalleryCase[] = [];
  for (const { v, phase, s } of worst) {
    const echo = byName.get(v.fileName)!;
    const gt = tracingToMask(phase === 'ED' ? echo.edRows : echo.esRows, FRAME_SIZE, FRAME_SIZE);
    const pred = readMaskPng(s.prediction).mask;
    if (!decoded.has(v.videoPath)) {
      decoded.set(
        v.videoPath,
        await decodeVideo(v.videoPath).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      );
    }
    const video = decoded.get(v.videoPath)!;
    let rgb: Uint8Array | null = null;
    let note: string | undefined;
    if (video instanceof Error) note = `video not decodable (${video.message}); masks shown alone`;
    else if (video.height !== FRAME_SIZE || video.width !== FRAME_SIZE)
      note = `video is ${video.width}x${video.height}; masks shown alone`;
    else if (s.frame >= video.count)
      note = `frame ${s.frame} is past the video's ${video.count} frames; masks shown alone`;
    else {
      const bytes = FRAME_SIZE * FRAME_SIZE * 3;
      rgb = video.frames.slice(s.frame * bytes, (s.frame + 1) * bytes);
    }
    const image = `data:image/png;base64,${renderCasePng(rgb, gt, pred, FRAME_SIZE, FRAME_SIZE).toString('base64')}`;
    out.push({ fileName: v.fileName, phase, frame: s.frame, dice: s.dice, image, ...(note ? { note } : {}) });
  }
  return out;
}
