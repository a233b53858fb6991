// VolumeTracings.csv as text: parsing and writing, browser-safe (the viewer writes and reads
// tracings too); csv-files.ts reads the file from disk.
import { DataError, csvLines, intField, numberField } from './errors.js';

/** The traces of one video in VolumeTracings.csv (docs/upstream.md#tracings). */
export interface TracedVideo {
  /** File name as written in the CSV (EchoNet includes `.avi`). */
  fileName: string;
  /** Distinct frame numbers in order of first appearance in the file. */
  frames: number[];
  /** Frame -> its `[x1, y1, x2, y2]` rows, in file order. */
  rows: Map<number, number[][]>;
  /** 1-based line of the video's first row, for messages about the video as a whole. */
  firstLine?: number;
}

export const VOLUME_TRACINGS_HEADER = 'FileName,X1,Y1,X2,Y2,Frame';
const HEADER = VOLUME_TRACINGS_HEADER;
const COLUMNS = ['X1', 'Y1', 'X2', 'Y2'];

/**
 * Parse VolumeTracings.csv's text (`path` names it in errors). The header must be exactly `FileName,X1,Y1,X2,Y2,Frame` (upstream
 * asserts it); every other line must have six fields, four numbers and an integer frame. A
 * malformed line is an error, or, with `onBadRow`, handed to it with the video it belongs to (the
 * first field, when not empty) and left out, so the caller can drop that video and keep the rest.
 */
export function parseVolumeTracings(
  text: string,
  path: string,
  onBadRow?: (fileName: string, error: DataError) => void,
): Map<string, TracedVideo> {
  const lines = csvLines(text);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').trim();
  if (header !== HEADER) {
    throw new DataError(path, `header must be exactly "${HEADER}", found "${header}"`, 1);
  }
  const videos = new Map<string, TracedVideo>();
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const fields = lines[i].split(',');
    const fileName = fields[0].trim();
    let coords: number[];
    let frame: number;
    try {
      if (fields.length !== 6) {
        throw new DataError(path, `expected 6 comma-separated fields, found ${fields.length}`, line);
      }
      if (fileName === '') throw new DataError(path, 'column FileName is empty', line);
      coords = COLUMNS.map((c, k) => numberField(path, line, c, fields[k + 1]));
      frame = intField(path, line, 'Frame', fields[5]);
      if (frame < 0) throw new DataError(path, `column Frame: ${frame} is negative`, line);
    } catch (e) {
      if (!onBadRow || !(e instanceof DataError)) throw e;
      onBadRow(fileName, e);
      continue;
    }
    let v = videos.get(fileName);
    if (!v) {
      v = { fileName, frames: [], rows: new Map(), firstLine: line };
      videos.set(fileName, v);
    }
    let rows = v.rows.get(frame);
    if (!rows) {
      rows = [];
      v.rows.set(frame, rows);
      v.frames.push(frame);
    }
    rows.push(coords);
  }
  return videos;
}

/**
 * End-systolic frame: the FIRST distinct frame listed (upstream "small_trace"). Like upstream
 * and EchoNet's reference code, the CSV order decides; no area comparison is made.
 */
export function esFrame(v: TracedVideo): number {
  return v.frames[0];
}

/** End-diastolic frame: the LAST distinct frame listed (upstream "large_trace"). */
export function edFrame(v: TracedVideo): number {
  return v.frames[v.frames.length - 1];
}

/** Fixed-point text without a "-0.00" for tiny negatives. */
export function fixedText(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/**
 * VolumeTracings.csv lines of one video (no header): every traced frame's rows `[x1, y1, x2, y2]`
 * in the order given, coordinates with four decimals. EchoNet lists the ES frame first and the
 * ED frame last (esFrame / edFrame above read them so), so pass them in that order.
 */
export function volumeTracingsLines(
  fileName: string,
  frames: { frame: number; rows: number[][] }[],
): string[] {
  return frames.flatMap(({ frame, rows }) =>
    rows.map((r) => [fileName, ...r.map((c) => fixedText(c, 4)), frame].join(',')),
  );
}
