/**
 * A tiny EchoNet-style data folder in a temp dir, with rectangular tracings whose masks can be
 * counted by hand: a trace whose 20 chords run from x = x0 to x = x1 at rows y0..y0+19 fills
 * exactly rows y0..y0+19 x columns x0..x1 (skimage includes boundary pixels).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeVideo } from '../../src/data/video.js';

export interface Rect {
  y0: number;
  rows: number;
  x0: number;
  x1: number;
}

/** 21 rows: the long axis, then `rect.rows` (20) horizontal chords. */
export function rectTracing(r: Rect): number[][] {
  const mid = (r.x0 + r.x1) / 2;
  const rows = [[mid, r.y0, mid, r.y0 + r.rows - 1]];
  for (let k = 0; k < r.rows; k++) rows.push([r.x0, r.y0 + k, r.x1, r.y0 + k]);
  return rows;
}

/** Mask of rows y0.., columns x0..x1 inclusive, as the tracing fills it. */
export function rectMask(r: Rect, height = 112, width = 112): Uint8Array {
  const m = new Uint8Array(height * width);
  for (let y = r.y0; y < r.y0 + r.rows; y++) for (let x = r.x0; x <= r.x1; x++) m[y * width + x] = 1;
  return m;
}

export interface FixtureVideo {
  name: string; // without .avi
  split: 'TRAIN' | 'VAL' | 'TEST';
  es: { frame: number; rect: Rect };
  ed: { frame: number; rect: Rect };
  /** Write garbage instead of a decodable AVI. */
  corrupt?: boolean;
}

const FRAMES = 24;

export async function makeEchoNet(videos: FixtureVideo[]): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'unilvseg-eval-'));
  mkdirSync(join(root, 'Videos'));
  const list = ['FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split'];
  const traces = ['FileName,X1,Y1,X2,Y2,Frame'];
  for (const v of videos) {
    list.push(`${v.name},55.0,30.0,66.7,112,112,50,${FRAMES},${v.split}`);
    // ES first, ED last: the order decides which trace is which (docs/upstream.md#tracings).
    for (const t of [v.es, v.ed])
      for (const r of rectTracing(t.rect)) traces.push(`${v.name}.avi,${r.join(',')},${t.frame}`);
    const path = join(root, 'Videos', `${v.name}.avi`);
    if (v.corrupt) {
      writeFileSync(path, 'not a video');
      continue;
    }
    // Each frame a different gray level, so a test can tell which frame was shown.
    const frames = new Uint8Array(FRAMES * 112 * 112 * 3);
    for (let f = 0; f < FRAMES; f++) frames.fill(40 + 8 * f, f * 112 * 112 * 3, (f + 1) * 112 * 112 * 3);
    await encodeVideo(path, frames, { width: 112, height: 112, fps: 50, codec: 'mjpeg' });
  }
  writeFileSync(join(root, 'FileList.csv'), list.join('\n') + '\n');
  writeFileSync(join(root, 'VolumeTracings.csv'), traces.join('\n') + '\n');
  return root;
}
