/**
 * A CAMUS-format copy of a synthetic EchoNet-format dataset (docs/camus.md#synthetic-copy), so the
 * `camus` command, its tests and users without CAMUS have data with every frame traced:
 *  - one patient per video (patient0001, ... in FileList order), the four-chamber view only (the
 *    synthetic hearts are apical four-chamber views);
 *  - the half sequence: from the video's first true ED frame to the ES after it, or, for every
 *    second patient, from an ES to the ED after it (CAMUS has both directions);
 *  - frames as the decoded AVI's grey (ITU-R 601 luma), enlarged 4x across and 5x down
 *    (bilinear) to 448x560 pixels of 0.4 x 0.32 mm, so the physical picture is unchanged
 *    (112 px of 1.6 mm) but the pixels are not square, as CAMUS's are not; the LV masks enlarged
 *    by repeating pixels, label 1 (the synthetic truth has no myocardium or atrium labels);
 *  - Info_4CH.cfg: ED, ES, NbFrame, ImageQuality (Good/Medium/Poor by tertile of the measured
 *    contrast between the cavity and the band of 4 px around it at ED, over the copied videos),
 *    and LVedv/LVesv/LVef from the synthetic truth (single-plane method of discs on the tracings,
 *    where CAMUS's are biplane). No Sex or Age line: the synthetic data has none.
 */
import { join } from 'node:path';
import { atomicWriteFile } from '../../util/atomic.js';
import { readFileListNames } from '../csv-files.js';
import { resampleRect } from '../resample.js';
import { readGroundTruthMasks } from '../synth/truth.js';
import { decodeVideo } from '../video.js';
import { writeNifti } from './nifti.js';

const SYNTHETIC_CAMUS_GRID = { scaleX: 4, scaleY: 5, sourcePixelMm: 1.6 };

export interface SyntheticCopyOptions {
  /** A synthetic dataset (synth's output: FileList.csv, Videos/, Masks/). */
  from: string;
  /** TRAIN, VAL, TEST or ALL. */
  split: string;
  out: string;
  onVideo?: (name: string, patient: string) => void;
}

export interface CopiedPatient {
  patient: string;
  video: string;
  direction: 'ED->ES' | 'ES->ED';
  /** The video's frames copied, inclusive. */
  first: number;
  last: number;
  quality: string;
  contrast: number;
}

/** The half sequence of a video: [first, last] and its direction, or null without one. */
function halfSequence(
  ed: number[],
  es: number[],
  reverse: boolean,
): { first: number; last: number; edFirst: boolean } | null {
  const [from, to] = reverse ? [es, ed] : [ed, es];
  for (const a of [...from].sort((x, y) => x - y)) {
    const b = to.filter((t) => t > a).sort((x, y) => x - y)[0];
    if (b !== undefined) return { first: a, last: b, edFirst: !reverse };
  }
  return null;
}

/** Mean grey of the cavity minus that of the 4-px band around it, over the band's standard deviation. */
function cavityContrast(grey: Uint8Array, lv: Uint8Array, size: number): number {
  const r = 4;
  let inS = 0;
  let inN = 0;
  const band: number[] = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      if (lv[i]) {
        inS += grey[i];
        inN++;
        continue;
      }
      let near = false;
      for (let dy = -r; dy <= r && !near; dy++)
        for (let dx = -r; dx <= r && !near; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          near = yy >= 0 && yy < size && xx >= 0 && xx < size && lv[yy * size + xx] === 1;
        }
      if (near) band.push(grey[i]);
    }
  if (inN === 0 || band.length < 2) return 0;
  const mean = band.reduce((s, v) => s + v, 0) / band.length;
  const sd = Math.sqrt(band.reduce((s, v) => s + (v - mean) ** 2, 0) / (band.length - 1));
  return (mean - inS / inN) / Math.max(sd, 1e-6);
}

/** Writes out/database_nifti/patientNNNN/ for every video of the split that has a half sequence. */
export async function writeSyntheticCamus(o: SyntheticCopyOptions): Promise<CopiedPatient[]> {
  const want = o.split.toUpperCase();
  const videos = readFileListNames(join(o.from, 'FileList.csv')).filter(
    (r) => want === 'ALL' || r.split === want,
  );
  if (videos.length === 0)
    throw new Error(`no videos of split ${o.split} in ${join(o.from, 'FileList.csv')}`);
  const { scaleX, scaleY, sourcePixelMm } = SYNTHETIC_CAMUS_GRID;
  const copied: (CopiedPatient & { cfg: string[]; dir: string })[] = [];
  for (const row of videos) {
    const name = row.fileName.replace(/\.avi$/i, '');
    const truth = readGroundTruthMasks(o.from, name);
    const half = halfSequence(truth.edFrames, truth.esFrames, copied.length % 2 === 1);
    if (!half) continue;
    const video = await decodeVideo(join(o.from, 'Videos', `${name}.avi`));
    const { height: h, width: w } = video;
    if (h !== truth.height || w !== truth.width || video.count < half.last + 1)
      throw new Error(
        `${name}: video is ${w}x${h}x${video.count}, its masks ${truth.width}x${truth.height}x${truth.frames}`,
      );
    const patient = `patient${String(copied.length + 1).padStart(4, '0')}`;
    o.onVideo?.(name, patient);
    const n = half.last - half.first + 1;
    const W = w * scaleX;
    const H = h * scaleY;
    const grey = new Uint8Array(h * w);
    const frames = new Uint8Array(n * H * W);
    const labels = new Uint8Array(n * H * W);
    let contrast = 0;
    for (let k = 0; k < n; k++) {
      const f = half.first + k;
      const rgb = video.frames.subarray(f * h * w * 3, (f + 1) * h * w * 3);
      for (let i = 0; i < h * w; i++)
        grey[i] = Math.round(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
      resampleRect(grey, h, w, 1, { x: 0, y: 0, w, h }, H, W, frames.subarray(k * H * W, (k + 1) * H * W));
      const lv = truth.masks.subarray(f * h * w, (f + 1) * h * w);
      const out = labels.subarray(k * H * W, (k + 1) * H * W);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) out[y * W + x] = lv[Math.floor(y / scaleY) * w + Math.floor(x / scaleX)];
      if (f === (half.edFirst ? half.first : half.last)) contrast = cavityContrast(grey, lv, h);
    }
    const dir = join(o.out, 'database_nifti', patient);
    const spacing = { x: sourcePixelMm / scaleX, y: sourcePixelMm / scaleY };
    writeNifti(join(dir, `${patient}_4CH_half_sequence.nii.gz`), {
      frames: n,
      height: H,
      width: W,
      data: frames,
      spacing,
    });
    writeNifti(join(dir, `${patient}_4CH_half_sequence_gt.nii.gz`), {
      frames: n,
      height: H,
      width: W,
      data: labels,
      spacing,
    });
    const [ed, es] = half.edFirst ? [1, n] : [n, 1];
    const cfg = [`ED: ${ed}`, `ES: ${es}`, `NbFrame: ${n}`];
    const volumes = [
      `LVedv: ${truth.edv.toFixed(2)}`,
      `LVesv: ${truth.esv.toFixed(2)}`,
      `LVef: ${truth.efTrue.toFixed(2)}`,
    ];
    copied.push({
      patient,
      video: name,
      direction: half.edFirst ? 'ED->ES' : 'ES->ED',
      first: half.first,
      last: half.last,
      quality: '',
      contrast,
      cfg: [...cfg, '', ...volumes],
      dir,
    });
  }
  // Tertiles of the contrast: the lowest third Poor, the highest Good.
  const sorted = copied.map((c) => c.contrast).sort((a, b) => a - b);
  const cut = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  for (const c of copied) {
    c.quality = c.contrast < cut(1 / 3) ? 'Poor' : c.contrast < cut(2 / 3) ? 'Medium' : 'Good';
    const lines = c.cfg.map((l) => (l === '' ? `ImageQuality: ${c.quality}` : l));
    atomicWriteFile(join(c.dir, 'Info_4CH.cfg'), lines.join('\n') + '\n');
  }
  atomicWriteFile(
    join(o.out, 'synthetic-copy.csv'),
    ['patient,video,direction,first_frame,last_frame,image_quality,contrast']
      .concat(
        copied.map((c) =>
          [c.patient, c.video, c.direction, c.first, c.last, c.quality, c.contrast.toFixed(3)].join(','),
        ),
      )
      .join('\n') + '\n',
  );
  return copied.map(({ cfg: _c, dir: _d, ...rest }) => rest);
}
