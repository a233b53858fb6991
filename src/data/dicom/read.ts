/** Multi-frame ultrasound DICOM files from disk; the decoding itself (shared with the browser viewer) is decode.ts. */
import { readFileSync } from 'node:fs';
import {
  decodeDicomVideo,
  DicomError,
  NOT_DICOM_PART10,
  probeDicomVideo,
  type DicomVideo,
} from './decode.js';
import { isDicomFile } from './detect.js';

export { DicomError, type DicomInfo, type DicomVideo } from './decode.js';

/** The file's bytes, checked by content before the whole file is read. */
function readDicomBytes(path: string): Uint8Array {
  if (!isDicomFile(path)) throw new DicomError(path, NOT_DICOM_PART10);
  return readFileSync(path);
}

/** Reads and decodes `path`; errors as decodeDicomVideo's. */
export async function readDicomVideo(path: string): Promise<DicomVideo> {
  return decodeDicomVideo(path, readDicomBytes(path));
}

/** The header facts of `path` (size, frames, frame rate, pixel size) without decoding a frame. */
export function probeDicomFile(path: string): ReturnType<typeof probeDicomVideo> {
  return probeDicomVideo(path, readDicomBytes(path));
}
