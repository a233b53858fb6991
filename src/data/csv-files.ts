// EchoNet's CSV files read from disk; their parsers (filelist.ts, tracings.ts) take text, so the
// browser viewer shares them.
import { readFileSync } from 'node:fs';
import type { DataError } from './errors.js';
import { parseFileList, parseFileListNames, type BadFileListRow, type FileListRow } from './filelist.js';
import { parseVolumeTracings, type TracedVideo } from './tracings.js';

/** FileList.csv (parseFileList). */
export function readFileList(path: string, onBadRow?: (bad: BadFileListRow) => void): FileListRow[] {
  return parseFileList(readFileSync(path, 'utf8'), path, onBadRow);
}

/** Only the names and splits of a FileList.csv (parseFileListNames). */
export function readFileListNames(path: string): { fileName: string; split?: string; line: number }[] {
  return parseFileListNames(readFileSync(path, 'utf8'), path);
}

/** VolumeTracings.csv (parseVolumeTracings). */
export function readVolumeTracings(
  path: string,
  onBadRow?: (fileName: string, error: DataError) => void,
): Map<string, TracedVideo> {
  return parseVolumeTracings(readFileSync(path, 'utf8'), path, onBadRow);
}
