/** DICOM recognised by content: a Part 10 file has "DICM" right after its 128-byte preamble. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export function isDicomFile(path: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
    const head = Buffer.alloc(132);
    return readSync(fd, head, 0, 132, 0) === 132 && head.toString('latin1', 128, 132) === 'DICM';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
