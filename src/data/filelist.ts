// FileList.csv as text: parsing and writing, browser-safe (the viewer writes FileList rows);
// csv-files.ts reads the file from disk.
import { DataError, csvLines, intField, numberField } from './errors.js';
import { fixedText } from './tracings.js';

/** One row of EchoNet-Dynamic's FileList.csv. */
export interface FileListRow {
  fileName: string;
  ef: number;
  esv: number;
  edv: number;
  frameHeight: number;
  frameWidth: number;
  fps: number;
  numberOfFrames: number;
  split: string;
  /** 1-based line in FileList.csv, for messages (absent for rows not read from a file). */
  line?: number;
}

/** What is known of a row that could not be read: its name and split when those fields are usable. */
export interface BadFileListRow {
  fileName: string;
  split: string;
  line: number;
  error: DataError;
}

export const FILE_LIST_COLUMNS = [
  'FileName',
  'EF',
  'ESV',
  'EDV',
  'FrameHeight',
  'FrameWidth',
  'FPS',
  'NumberOfFrames',
  'Split',
] as const;
const COLUMNS = FILE_LIST_COLUMNS;
type Column = (typeof COLUMNS)[number];

/** The data lines of a FileList.csv and where each required column is; a missing column is an error. */
function openTable(text: string, path: string, required: readonly Column[]) {
  const lines = csvLines(text);
  if (lines.length === 0) throw new DataError(path, 'empty file, expected a header line', 1);
  const header = lines[0]
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim());
  const at = new Map<Column, number>();
  for (const c of required) {
    const k = header.indexOf(c);
    if (k < 0) throw new DataError(path, `header lacks column ${c} (found: ${header.join(',')})`, 1);
    at.set(c, k);
  }
  return { lines, header, width: header.length, at };
}

/**
 * Parse FileList.csv's text (`path` names it in errors). Columns are found by header name (any order; extra columns ignored), all
 * nine must be present. Numbers are checked so that a malformed one is reported with its line
 * and column instead of silently becoming NaN. A malformed row is an error, or, with `onBadRow`,
 * handed to it and left out, so one bad row need not stop a run over the others.
 */
export function parseFileList(
  text: string,
  path: string,
  onBadRow?: (bad: BadFileListRow) => void,
): FileListRow[] {
  const { lines, width, at } = openTable(text, path, COLUMNS);
  const col = (c: Column) => at.get(c)!;
  const rows: FileListRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const f = lines[i].split(',');
    try {
      if (f.length !== width) {
        throw new DataError(path, `expected ${width} comma-separated fields, found ${f.length}`, line);
      }
      const num = (c: Column) => numberField(path, line, c, f[col(c)]);
      const int = (c: Column) => intField(path, line, c, f[col(c)]);
      const fileName = f[col('FileName')].trim();
      if (fileName === '') throw new DataError(path, 'column FileName is empty', line);
      rows.push({
        fileName,
        ef: num('EF'),
        esv: num('ESV'),
        edv: num('EDV'),
        frameHeight: int('FrameHeight'),
        frameWidth: int('FrameWidth'),
        fps: num('FPS'),
        numberOfFrames: int('NumberOfFrames'),
        // Surrounding blanks are trimmed (pandas would keep them); the match itself stays exact.
        split: f[col('Split')].trim(),
        line,
      });
    } catch (e) {
      if (!onBadRow || !(e instanceof DataError)) throw e;
      onBadRow({
        fileName: (f[col('FileName')] ?? '').trim(),
        split: (f[col('Split')] ?? '').trim(),
        line,
        error: e,
      });
    }
  }
  return rows;
}

/**
 * Only the video names (and splits, where the file has a Split column) of a FileList.csv: what
 * inference needs, so a list of unlabelled videos may leave EF, ESV, EDV and the rest out.
 */
export function parseFileListNames(
  text: string,
  path: string,
): { fileName: string; split?: string; line: number }[] {
  const { lines, header, at } = openTable(text, path, ['FileName']);
  const split = header.indexOf('Split');
  const out: { fileName: string; split?: string; line: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(',');
    const fileName = (f[at.get('FileName')!] ?? '').trim();
    if (fileName === '') throw new DataError(path, 'column FileName is empty', i + 1);
    out.push({ fileName, line: i + 1, ...(split >= 0 ? { split: (f[split] ?? '').trim() } : {}) });
  }
  return out;
}

/** A FileList.csv line (no header) in EchoNet's column order: EF, ESV and EDV with two decimals. */
export function fileListLine(r: Omit<FileListRow, 'line'>): string {
  const f2 = (v: number) => fixedText(v, 2);
  return [
    r.fileName,
    f2(r.ef),
    f2(r.esv),
    f2(r.edv),
    r.frameHeight,
    r.frameWidth,
    r.fps,
    r.numberOfFrames,
    r.split,
  ].join(',');
}
