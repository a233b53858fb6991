/**
 * Per-frame ground truth of a synthetic video, for scoring whole-video segmentation:
 *
 *   DIR/Masks/<name>.u8.gz  gzip of a raw uint8 array [frames, height, width], 1 = LV cavity
 *   DIR/Masks/<name>.json   { frames, height, width, fps, edFrames, esFrames, tracedEd,
 *                             tracedEs, efTrue, edv, esv, heartRate }
 *
 * `<name>` is the FileList name (no extension). edFrames/esFrames are the true end-diastolic and
 * end-systolic frames of every beat in the video (0-based); tracedEd/tracedEs the two frames in
 * VolumeTracings.csv; efTrue/edv/esv are the FileList values (method of discs on the tracings).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { atomicWriteFile } from '../../util/atomic.js';
import { DataError } from '../errors.js';

export interface TruthInfo {
  frames: number;
  height: number;
  width: number;
  fps: number;
  edFrames: number[];
  esFrames: number[];
  tracedEd: number;
  tracedEs: number;
  efTrue: number;
  edv: number;
  esv: number;
  heartRate: number;
}

export interface GroundTruth extends TruthInfo {
  /** uint8 [frames, height, width], 1 inside the LV. */
  masks: Uint8Array;
}

function baseName(name: string): string {
  return name.replace(/\.avi$/i, '');
}

export function writeGroundTruthMasks(dir: string, name: string, truth: GroundTruth): void {
  const { masks, ...info } = truth;
  if (masks.length !== info.frames * info.height * info.width) {
    throw new Error(`${name}: ${masks.length} mask bytes for ${info.frames}x${info.height}x${info.width}`);
  }
  // Level 1: masks are long runs of 0/1, so even the fastest level shrinks them ~50x.
  atomicWriteFile(join(dir, 'Masks', `${baseName(name)}.u8.gz`), gzipSync(masks, { level: 1 }));
  atomicWriteFile(join(dir, 'Masks', `${baseName(name)}.json`), JSON.stringify(info) + '\n');
}

/** Ground truth of video `name` (with or without `.avi`) of the synthetic dataset in `dir`. */
export function readGroundTruthMasks(dir: string, name: string): GroundTruth {
  const jsonPath = join(dir, 'Masks', `${baseName(name)}.json`);
  const maskPath = join(dir, 'Masks', `${baseName(name)}.u8.gz`);
  let info: TruthInfo;
  try {
    info = JSON.parse(readFileSync(jsonPath, 'utf8')) as TruthInfo;
  } catch (e) {
    throw new DataError(jsonPath, `cannot read ground-truth description (${(e as Error).message})`);
  }
  for (const key of ['frames', 'height', 'width'] as const) {
    if (!Number.isInteger(info[key]) || info[key] <= 0)
      throw new DataError(jsonPath, `${key} must be a positive integer`);
  }
  let masks: Uint8Array;
  try {
    masks = new Uint8Array(gunzipSync(readFileSync(maskPath)));
  } catch (e) {
    throw new DataError(maskPath, `cannot read masks (${(e as Error).message})`);
  }
  const expected = info.frames * info.height * info.width;
  if (masks.length !== expected) {
    throw new DataError(
      maskPath,
      `holds ${masks.length} bytes, expected ${info.frames}x${info.height}x${info.width} = ${expected}`,
    );
  }
  return { ...info, masks };
}
