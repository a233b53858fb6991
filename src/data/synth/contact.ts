/**
 * Contact sheet of a synthetic dataset, to check by eye that it looks like an apical
 * four-chamber echo: one row per video, columns ED (plain), ED, mid-systole and ES with the
 * per-frame ground-truth contour (green) and, on the traced frames, the VolumeTracings polygon
 * built by the upstream mask rule (red).
 */
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { atomicWriteFile } from '../../util/atomic.js';
import { readFileList, readVolumeTracings } from '../csv-files.js';
import { tracingToMask } from '../polygon.js';
import { decodeVideo } from '../video.js';
import { readGroundTruthMasks } from './truth.js';

type Rgb = [number, number, number];
const GREEN: Rgb = [40, 230, 60];
const RED: Rgb = [240, 50, 40];

interface Tile {
  frame: Uint8Array; // RGB24 [H, W, 3]
  contours: { mask: Uint8Array; colour: Rgb }[];
}

export async function writeContactSheet(
  dir: string,
  outPng: string,
  opts: { videos?: number; zoom?: number } = {},
): Promise<void> {
  const zoom = opts.zoom ?? 2;
  const list = readFileList(join(dir, 'FileList.csv')).slice(0, opts.videos ?? 8);
  const traces = readVolumeTracings(join(dir, 'VolumeTracings.csv'));
  const rows: Tile[][] = [];
  let size = 0;
  for (const item of list) {
    const video = await decodeVideo(join(dir, 'Videos', `${item.fileName}.avi`));
    const truth = readGroundTruthMasks(dir, item.fileName);
    const trace = traces.get(`${item.fileName}.avi`);
    size = video.width;
    const pixels = video.height * video.width;
    const frame = (t: number) => video.frames.subarray(t * pixels * 3, (t + 1) * pixels * 3);
    const gt = (t: number) => ({ mask: truth.masks.subarray(t * pixels, (t + 1) * pixels), colour: GREEN });
    const traced = (t: number) => {
      const rowsOf = trace?.rows.get(t);
      return rowsOf ? [{ mask: tracingToMask(rowsOf, video.height, video.width), colour: RED }] : [];
    };
    const { tracedEd: ed, tracedEs: es } = truth;
    const mid = Math.round((ed + es) / 2);
    rows.push([
      { frame: frame(ed), contours: [] },
      { frame: frame(ed), contours: [gt(ed), ...traced(ed)] },
      { frame: frame(mid), contours: [gt(mid)] },
      { frame: frame(es), contours: [gt(es), ...traced(es)] },
    ]);
  }
  const tile = size * zoom;
  const gap = 2;
  const cols = 4;
  const png = new PNG({ width: cols * (tile + gap), height: rows.length * (tile + gap) });
  png.data.fill(255);
  rows.forEach((row, r) =>
    row.forEach((t, c) => drawTile(png, t, size, zoom, c * (tile + gap), r * (tile + gap))),
  );
  atomicWriteFile(outPng, PNG.sync.write(png));
}

function drawTile(png: PNG, t: Tile, size: number, zoom: number, x0: number, y0: number): void {
  const put = (x: number, y: number, rgb: ArrayLike<number>) => {
    for (let dy = 0; dy < zoom; dy++) {
      for (let dx = 0; dx < zoom; dx++) {
        const o = ((y0 + y * zoom + dy) * png.width + x0 + x * zoom + dx) * 4;
        png.data[o] = rgb[0];
        png.data[o + 1] = rgb[1];
        png.data[o + 2] = rgb[2];
        png.data[o + 3] = 255;
      }
    }
  };
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) put(x, y, t.frame.subarray((y * size + x) * 3));
  for (const { mask, colour } of t.contours) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (!mask[y * size + x]) continue;
        const edge =
          x === 0 ||
          y === 0 ||
          x === size - 1 ||
          y === size - 1 ||
          !mask[y * size + x - 1] ||
          !mask[y * size + x + 1] ||
          !mask[(y - 1) * size + x] ||
          !mask[(y + 1) * size + x];
        if (edge) put(x, y, colour);
      }
    }
  }
}
