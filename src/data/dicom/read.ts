/** Multi-frame ultrasound DICOM files from disk; the decoding itself (shared with the browser viewer) is decode.ts. */
import { readFileSync } from 'node:fs';
import { decodeDicomVideo, DicomError, probeDicomVideo, type DicomVideo } from './decode.js';
import { isDicomFile } from './detect.js';

export { DicomError, type DicomInfo, type DicomVideo } from './decode.js';

/** Reads and decodes `path`; errors as decodeDicomVideo's, checked by content before the whole file is read. */
export function readDicomVideo(path: string): DicomVideo {
  if (!isDicomFile(path))
    throw new DicomError(path, 'not a DICOM Part 10 file (no "DICM" marker at byte 128)');
  return decodeDicomVideo(path, readFileSync(path));
}

/** The header facts of `path` (size, frames, frame rate, pixel size) without decoding a frame. */
export function probeDicomFile(path: string): ReturnType<typeof probeDicomVideo> {
  if (!isDicomFile(path))
    throw new DicomError(path, 'not a DICOM Part 10 file (no "DICM" marker at byte 128)');
  return probeDicomVideo(path, readFileSync(path));
}
