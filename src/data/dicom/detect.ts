/** DICOM recognised by content: a Part 10 file has "DICM" right after its 128-byte preamble. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { hasDicomMarker, hasDicomName } from './decode.js';

export function isDicomFile(path: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
    const head = new Uint8Array(132);
    return readSync(fd, head, 0, 132, 0) === 132 && hasDicomMarker(head);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A DICOM file to take as a video in a folder: named .dcm/.dicom or DICOM by content (scanner
 * exports are often named IM0001), but never the folder's DICOMDIR index.
 */
export function isDicomCineFile(path: string): boolean {
  const name = basename(path);
  return name.toUpperCase() !== 'DICOMDIR' && (hasDicomName(name) || isDicomFile(path));
}
