import { readFileSync } from 'node:fs';
import { DataError, csvLines, intField, numberField } from './errors.js';

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

const COLUMNS = [
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

/**
 * Parse FileList.csv. Columns are found by header name (any order; extra columns ignored), all
 * nine must be present. Numbers are checked so that a malformed one is reported with its line
 * and column instead of silently becoming NaN.
 */
export function readFileList(path: string): FileListRow[] {
  const lines = csvLines(readFileSync(path, 'utf8'));
  if (lines.length === 0) throw new DataError(path, 'empty file, expected a header line', 1);
  const header = lines[0]
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((h) => h.trim());
  const at = new Map<string, number>();
  for (const c of COLUMNS) {
    const k = header.indexOf(c);
    if (k < 0) throw new DataError(path, `header lacks column ${c} (found: ${header.join(',')})`, 1);
    at.set(c, k);
  }
  const col = (c: (typeof COLUMNS)[number]) => at.get(c)!;
  const rows: FileListRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const f = lines[i].split(',');
    if (f.length !== header.length) {
      throw new DataError(path, `expected ${header.length} comma-separated fields, found ${f.length}`, line);
    }
    const num = (c: (typeof COLUMNS)[number]) => numberField(path, line, c, f[col(c)]);
    const int = (c: (typeof COLUMNS)[number]) => intField(path, line, c, f[col(c)]);
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
  }
  return rows;
}
