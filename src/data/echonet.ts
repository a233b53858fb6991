import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../util/rng.js';
import { DataError, type BadItemHandler } from './errors.js';
import { readFileList, readVolumeTracings } from './csv-files.js';
import type { FileListRow } from './filelist.js';
import { edFrame, esFrame } from './tracings.js';
import { DEFAULT_SEED, FRAME_SIZE } from '../defaults.js';

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
   * Called once for every video left out, with why: listed but missing on disk, a malformed
   * number in its FileList.csv row or its tracings, a non-112x112 frame size, a trace without
   * chords, fewer than two distinct traced frames, a name with an extension; also for a tracing
   * of a video FileList.csv does not list. The run goes on with the other videos.
   */
  onBadItem?: BadItemHandler;
  /**
   * Stop at the first problem upstream stops on (a missing video, a malformed number, a wrong
   * frame size, a trace without chords) instead of leaving the video out. What upstream leaves
   * out silently (fewer than two traced frames, names with an extension) is still left out and
   * reported. Without `onBadItem` the open is always strict.
   */
  strict?: boolean;
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
  const strict = opts.strict || !opts.onBadItem;
  const message = (problem: string, line?: number) =>
    line === undefined ? problem : `line ${line}: ${problem}`;
  /** A problem upstream stops on: an error when strict, else the video is reported and left out. */
  const fail = (file: string, problem: string, line?: number): void => {
    if (strict) throw new DataError(file, problem, line);
    opts.onBadItem!(file, message(problem, line));
  };
  /** Something upstream leaves out without a word: reported, never an error. */
  const drop = (file: string, problem: string, line?: number): void =>
    opts.onBadItem?.(file, message(problem, line));

  // Upstream upper-cases the request and compares it exactly with the column (case-sensitive).
  const want = split.toUpperCase();
  const wanted = (rowSplit: string) => want === 'ALL' || rowSplit === want;
  const listed = new Set<string>();
  const withExtension = (fileName: string) => (extension(fileName) === '' ? `${fileName}.avi` : fileName);
  const rows = readFileList(
    listPath,
    strict
      ? undefined
      : (bad) => {
          if (bad.fileName) listed.add(withExtension(bad.fileName));
          if (wanted(bad.split) || bad.split === '')
            fail(listPath, `${bad.fileName || 'a row'} left out: ${bad.error.problem}`, bad.line);
        },
  );
  const chosen: { name: string; row: FileListRow }[] = [];
  for (const row of rows) {
    // Upstream appends .avi to bare names and silently DROPS names that have an extension. We
    // keep that (the video list, hence the split sizes, stay upstream's) but say so, since a
    // silent drop of a user's "X.avi" row is a trap.
    const name = withExtension(row.fileName);
    listed.add(name);
    if (!wanted(row.split)) continue;
    if (name === row.fileName) {
      drop(
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
  const missing = chosen.filter((c) => !present.has(c.name));
  if (missing.length > 0 && strict) {
    const shown = missing
      .slice(0, SHOW_MISSING)
      .map((c) => c.name)
      .join(', ');
    const more = missing.length > SHOW_MISSING ? ` and ${missing.length - SHOW_MISSING} more` : '';
    throw new DataError(
      videoDir,
      `${missing.length} video(s) listed in ${listPath} are missing: ${shown}${more}`,
    );
  }
  for (const c of missing)
    fail(join(videoDir, c.name), `no such file (listed in ${listPath} line ${c.row.line})`);

  const badTracings = new Map<string, DataError>();
  const tracings = readVolumeTracings(
    tracePath,
    strict ? undefined : (name, error) => void (badTracings.has(name) || badTracings.set(name, error)),
  );
  for (const [name, error] of badTracings) {
    if (name === '') fail(tracePath, `a row without a FileName is ignored: ${error.problem}`, error.line);
    else if (!listed.has(name))
      drop(tracePath, `tracing of "${name}", which ${listPath} does not list`, error.line);
  }
  for (const [name, tv] of tracings) {
    if (!listed.has(name))
      drop(tracePath, `tracing of "${name}", which ${listPath} does not list`, tv.firstLine);
  }

  let videos: EchoVideo[] = [];
  for (const { name, row } of chosen) {
    if (!present.has(name)) continue;
    const error = badTracings.get(name);
    if (error) {
      fail(tracePath, `${name} left out: ${error.problem}`, error.line);
      continue;
    }
    const tv = tracings.get(name);
    // Upstream drops videos with fewer than 2 traced frames without a word; we drop and say so.
    if (!tv || tv.frames.length < 2) {
      drop(
        tracePath,
        tv
          ? `${name} left out: its tracings have one distinct frame (${tv.frames[0]}); ED and ES need two`
          : `${name} left out: it has no tracings`,
        tv?.firstLine,
      );
      continue;
    }
    if (row.frameHeight !== FRAME_SIZE || row.frameWidth !== FRAME_SIZE) {
      fail(
        listPath,
        `${name} is ${row.frameWidth}x${row.frameHeight}, the models need ${FRAME_SIZE}x${FRAME_SIZE} frames`,
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
      fail(
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

  if (opts.pctTrain !== undefined) videos = subsample(videos, opts.pctTrain, opts.pctSeed ?? DEFAULT_SEED);
  return videos;
}

/** round_half_up(n * pct) videos chosen by a seeded draw, kept in FileList order. */
export function subsample<T>(items: T[], pct: number, seed: number): T[] {
  if (!(pct > 0 && pct <= 1)) throw new Error(`pct_train must be in (0, 1], got ${pct}`);
  const k = Math.floor(items.length * pct + 0.5);
  const picked = new Rng(seed).choose(items.length, Math.min(k, items.length)).sort((a, b) => a - b);
  return picked.map((i) => items[i]);
}
