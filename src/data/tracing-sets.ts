// A set of traced videos (the browser viewer's tracing session) as EchoNet's two CSV files and
// back. Browser-safe. The files are what EchoNet-Dynamic ships and `ort-train` reads: FileList.csv
// (one row per video: EF, ESV and EDV from the tracings by the method of discs, frame size, rate
// and count, split) and VolumeTracings.csv (per video the ES frame's rows, then the ED frame's,
// each a long axis and 20 chords; docs/upstream.md#tracings).
import { DataError } from './errors.js';
import { FILE_LIST_COLUMNS, fileListLine, parseFileList, type FileListRow } from './filelist.js';
import type { TracedFrame } from './samples.js';
import { ejectionFraction, volumeFromTracing } from './synth/volume.js';
import {
  edFrame,
  esFrame,
  parseVolumeTracings,
  VOLUME_TRACINGS_HEADER,
  volumeTracingsLines,
} from './tracings.js';

export type Split = 'TRAIN' | 'VAL' | 'TEST';
export const SPLITS: readonly Split[] = ['TRAIN', 'VAL', 'TEST'];

/** One video of a tracing set, as the viewer keeps it. */
export interface TracedVideoRecord {
  /** The name without extension (FileList's FileName; VolumeTracings adds `.avi`, as EchoNet). */
  name: string;
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  split: Split;
  /** mm per pixel across and down, when known (DICOM): then ESV/EDV in mL, else in px^3. */
  spacing?: { x: number; y: number } | null;
  ed?: Omit<TracedFrame, 'which'>;
  es?: Omit<TracedFrame, 'which'>;
}

/** The VolumeTracings FileName of a record: EchoNet's names carry `.avi`. */
export const tracingsFileName = (name: string): string => `${name}.avi`;

/** Method-of-discs volume of a traced frame in mL with a pixel spacing, else in px^3. */
function volume(rows: number[][], spacing: TracedVideoRecord['spacing']): number {
  if (!spacing) return volumeFromTracing(rows, 10); // 10 "mm" per pixel: mm^3 / 1000 = px^3
  // In mm (non-square pixels are scaled to square ones first), 1 mm per unit: mm^3 / 1000 = mL.
  const mm = rows.map(([x1, y1, x2, y2]) => [x1 * spacing.x, y1 * spacing.y, x2 * spacing.x, y2 * spacing.y]);
  return volumeFromTracing(mm, 1);
}

export interface EchoNetCsvs {
  fileList: string;
  volumeTracings: string;
  /** Videos left out, with why (EchoNet needs both an ED and an ES tracing per video). */
  skipped: string[];
}

/** FileList.csv and VolumeTracings.csv of every record that has both an ED and an ES tracing. */
export function tracingSetCsvs(records: readonly TracedVideoRecord[]): EchoNetCsvs {
  const fileList = [FILE_LIST_COLUMNS.join(',')];
  const tracings = [VOLUME_TRACINGS_HEADER];
  const skipped: string[] = [];
  for (const r of records) {
    if (!r.ed || !r.es) {
      skipped.push(
        `${r.name}: needs both an ED and an ES tracing (has ${r.ed ? 'ED' : r.es ? 'ES' : 'none'})`,
      );
      continue;
    }
    if (r.ed.frame === r.es.frame) {
      skipped.push(`${r.name}: ED and ES are the same frame (${r.ed.frame})`);
      continue;
    }
    const edv = volume(r.ed.rows, r.spacing);
    const esv = volume(r.es.rows, r.spacing);
    fileList.push(
      fileListLine({
        fileName: r.name,
        ef: ejectionFraction(edv, esv),
        esv,
        edv,
        frameHeight: r.height,
        frameWidth: r.width,
        fps: r.fps,
        numberOfFrames: r.frameCount,
        split: r.split,
      }),
    );
    // ES first, ED last: readers take the first listed frame as ES and the last as ED.
    tracings.push(...volumeTracingsLines(tracingsFileName(r.name), [r.es, r.ed]));
  }
  return { fileList: fileList.join('\n') + '\n', volumeTracings: tracings.join('\n') + '\n', skipped };
}

/** What a VolumeTracings.csv (and optionally its FileList.csv) says about each video. */
export interface LoadedTracings {
  name: string;
  ed: Omit<TracedFrame, 'which'>;
  es: Omit<TracedFrame, 'which'>;
  /** From FileList.csv, when given and it lists the video. */
  split?: Split;
  video?: { width: number; height: number; fps: number; frameCount: number };
}

/**
 * The tracings of VolumeTracings.csv text, by video name without `.avi`; the splits from a
 * FileList.csv's text where given. ED and ES follow EchoNet's order rule (ES the first listed
 * frame, ED the last). Errors name the file and line; a video with a single traced frame is one.
 */
export function readTracingSetCsvs(
  volumeTracings: { text: string; name: string },
  fileList?: { text: string; name: string },
): LoadedTracings[] {
  const rows = new Map<string, FileListRow>();
  if (fileList)
    for (const row of parseFileList(fileList.text, fileList.name))
      rows.set(row.fileName.replace(/\.avi$/i, ''), row);
  const out: LoadedTracings[] = [];
  for (const v of parseVolumeTracings(volumeTracings.text, volumeTracings.name).values()) {
    const name = v.fileName.replace(/\.avi$/i, '');
    if (v.frames.length < 2)
      throw new DataError(
        volumeTracings.name,
        `${v.fileName} has one traced frame (${v.frames[0]}); EchoNet's format needs ES and ED`,
        v.firstLine,
      );
    const [es, ed] = [esFrame(v), edFrame(v)];
    const row = rows.get(name);
    if (row && !SPLITS.includes(row.split as Split))
      throw new DataError(
        fileList!.name,
        `${name}: Split "${row.split}" is not one of ${SPLITS.join(', ')}`,
        row.line,
      );
    out.push({
      name,
      es: { frame: es, rows: v.rows.get(es)! },
      ed: { frame: ed, rows: v.rows.get(ed)! },
      ...(row
        ? {
            split: row.split as Split,
            video: {
              width: row.frameWidth,
              height: row.frameHeight,
              fps: row.fps,
              frameCount: row.numberOfFrames,
            },
          }
        : {}),
    });
  }
  return out;
}
