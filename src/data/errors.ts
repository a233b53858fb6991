/**
 * Errors of the data pipeline. Every message names the file, and for CSV files the 1-based line
 * (and column), so a bad row in a 400,000-line VolumeTracings.csv can be found at once.
 */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${problem}`);
    this.name = 'DataError';
  }
}

/** Any failure to read or write a video; the message names the file. Browser-safe (the DICOM reader runs in the viewer). */
export class VideoError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'VideoError';
  }
}

/** Called for an input that is wrong but need not stop a run; `problem` is a full sentence. */
export type BadItemHandler = (file: string, problem: string) => void;

/** A CSV field that must be a finite number. Empty fields and trailing garbage are errors. */
export function numberField(file: string, line: number, column: string, text: string): number {
  const t = text.trim();
  const v = Number(t);
  if (t === '' || !Number.isFinite(v)) {
    throw new DataError(file, `column ${column}: "${text}" is not a number`, line);
  }
  return v;
}

/** A CSV field that must be an integer (written as one: "3", not "3.0" or "3e0"). */
export function intField(file: string, line: number, column: string, text: string): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new DataError(file, `column ${column}: "${text}" is not an integer`, line);
  return Number(t);
}

/**
 * The lines of a small CSV-like text file: split on newlines (CRLF accepted), trailing empty
 * lines ignored. EchoNet's CSVs never quote fields, and upstream splits on ',' as well, so a
 * quoting-aware parser would only accept files upstream rejects.
 */
export function csvLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines;
}
