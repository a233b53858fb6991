import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../util/rng.js';
import { DataError, type BadItemHandler } from './errors.js';
import { readFileList, type FileListRow } from './filelist.js';
import { readVolumeTracings, edFrame, esFrame } from './tracings.js';

/** One usable EchoNet video: its FileList row and its two traced frames (docs/upstream.md#video-list). */
export interface EchoVideo {
  /** With `.avi`, as in VolumeTracings.csv. */
  fileName: string;
  /** `<root>/Videos/<fileName>`. */
  path: string;
  row: FileListRow;
  /** Frame index of the end-systolic trace (first distinct frame listed, "small_trace"). */
  esFrame: number;
  /** Frame index of the end-diastolic trace (last distinct frame listed, "large_trace"). */
  edFrame: number;
  esRows: number[][];
  edRows: number[][];
}

export interface OpenOptions {
  /** Keep round_half_up(n * pctTrain) videos, a seeded random subset (upstream `--pct_train`). */
  pctTrain?: number;
  /** Seed of that subset; upstream seeds Python's `random` with 42 (not bit-compatible). */
  pctSeed?: number;
  /**
   * Called for problems that only affect some videos (a tracing of a video FileList.csv does not
   * list, a file name with an extension, a non-112x112 video, a trace without chords); the video
   * is then left out. Without a handler such a problem is an error.
   */
  onBadItem?: BadItemHandler;
}

/** Python's `os.path.splitext(name)[1]`: leading dots do not start an extension. */
function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(name.slice(0, dot + 1))) return '';
  return name.slice(dot);
}

const SHOW_MISSING = 20;

/** The videos of one split (`train`, `val`, `test` or `all`, any case) of an EchoNet root. */
export function openEchoNet(root: string, split: string, opts: OpenOptions = {}): EchoVideo[] {
  const listPath = join(root, 'FileList.csv');
  const tracePath = join(root, 'VolumeTracings.csv');
  const videoDir = join(root, 'Videos');
  const report = (file: string, problem: string, line?: number): void => {
    if (!opts.onBadItem) throw new DataError(file, problem, line);
    opts.onBadItem(file, line === undefined ? problem : `line ${line}: ${problem}`);
  };

  const rows = readFileList(listPath);
  // Upstream upper-cases the request and compares it exactly with the column (case-sensitive).
  const want = split.toUpperCase();
  const listed = new Set<string>();
  const chosen: { name: string; row: FileListRow }[] = [];
  for (const row of rows) {
    // Upstream appends .avi to bare names and silently DROPS names that have an extension. We
    // keep that (the video list, hence the split sizes, stay upstream's) but say so, since a
    // silent drop of a user's "X.avi" row is a trap.
    const ext = extension(row.fileName);
    const name = ext === '' ? `${row.fileName}.avi` : row.fileName;
    listed.add(name);
    if (want !== 'ALL' && row.split !== want) continue;
    if (ext !== '') {
      report(
        listPath,
        `FileName "${row.fileName}" has an extension; upstream drops such rows, so it is left out`,
        row.line,
      );
      continue;
    }
    chosen.push({ name, row });
  }

  let present: Set<string>;
  try {
    present = new Set(readdirSync(videoDir));
  } catch {
    throw new DataError(videoDir, 'no such folder (expected <root>/Videos/ holding the AVI files)');
  }
  const missing = chosen.filter((c) => !present.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    const shown = missing.slice(0, SHOW_MISSING).join(', ');
    const more = missing.length > SHOW_MISSING ? ` and ${missing.length - SHOW_MISSING} more` : '';
    throw new DataError(
      videoDir,
      `${missing.length} video(s) listed in ${listPath} are missing: ${shown}${more}`,
    );
  }

  const tracings = readVolumeTracings(tracePath);
  for (const [name, tv] of tracings) {
    if (!listed.has(name))
      report(tracePath, `tracing of "${name}", which ${listPath} does not list`, tv.firstLine);
  }

  let videos: EchoVideo[] = [];
  for (const { name, row } of chosen) {
    const tv = tracings.get(name);
    // Upstream drops videos with fewer than 2 traced frames without a word; so do we.
    if (!tv || tv.frames.length < 2) continue;
    if (row.frameHeight !== 112 || row.frameWidth !== 112) {
      report(
        listPath,
        `${name} is ${row.frameWidth}x${row.frameHeight}, the models need 112x112 frames`,
        row.line,
      );
      continue;
    }
    const es = esFrame(tv);
    const ed = edFrame(tv);
    const esRows = tv.rows.get(es)!;
    const edRows = tv.rows.get(ed)!;
    const thin = [es, ed].find((f) => tv.rows.get(f)!.length < 2);
    if (thin !== undefined) {
      report(
        tracePath,
        `${name} frame ${thin} has no chord rows (only the long axis), no polygon can be drawn`,
        tv.firstLine,
      );
      continue;
    }
    videos.push({
      fileName: name,
      path: join(videoDir, name),
      row,
      esFrame: es,
      edFrame: ed,
      esRows,
      edRows,
    });
  }

  if (opts.pctTrain !== undefined) videos = subsample(videos, opts.pctTrain, opts.pctSeed ?? 42);
  return videos;
}

/** round_half_up(n * pct) videos chosen by a seeded draw, kept in FileList order. */
export function subsample<T>(items: T[], pct: number, seed: number): T[] {
  if (!(pct > 0 && pct <= 1)) throw new Error(`pct_train must be in (0, 1], got ${pct}`);
  const k = Math.floor(items.length * pct + 0.5);
  const picked = new Rng(seed).choose(items.length, Math.min(k, items.length)).sort((a, b) => a - b);
  return picked.map((i) => items[i]);
}
