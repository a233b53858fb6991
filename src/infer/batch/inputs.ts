// The videos of a segment-batch input: a folder (recursively), a text file of paths, or an EchoNet
// FileList.csv. Each video gets a key, its output subfolder, unique and stable for the same input.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readFileListNames } from '../../data/csv-files.js';
import { listVideoFolder, VIDEO_EXTENSIONS } from '../../data/open-video.js';

export interface BatchVideo {
  /** Output subfolder relative to <output>/videos, '/'-separated, no extension. */
  key: string;
  path: string;
}

export interface BatchInput {
  kind: 'folder' | 'list' | 'filelist';
  /** The input as given, resolved. */
  input: string;
  split?: string;
  /** Sorted by key, each video once. */
  videos: BatchVideo[];
  /** Files of a folder input that are neither videos nor DICOM (relative paths). */
  ignored: string[];
  /** SHA-256 of the keys and paths: the same list gives the same partition into shards. */
  listSha256: string;
}

/** Walks `root` depth-first: every folder's videos under keys `<relative folder>/<name>`. */
function folderVideos(root: string, exclude: string[]): { videos: BatchVideo[]; ignored: string[] } {
  const videos: BatchVideo[] = [];
  const ignored: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    const real = realpathSync(dir);
    if (seen.has(real) || exclude.includes(real)) return; // symlink loops, the output folder itself
    seen.add(real);
    const rel = relative(root, dir).split(sep).filter(Boolean);
    const found = listVideoFolder(dir);
    for (const v of found.videos) videos.push({ key: [...rel, v.name].join('/'), path: v.path });
    for (const f of found.ignored) ignored.push([...rel, f].join('/'));
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (!entry.startsWith('.') && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return { videos, ignored };
}

/** Keys for paths from a list: relative to their deepest common folder, video extension dropped, clashes numbered. */
function keysForPaths(paths: string[]): BatchVideo[] {
  const dirs = paths.map((p) => dirname(p).split(sep));
  let common = dirs[0] ?? [];
  for (const d of dirs) {
    let k = 0;
    while (k < common.length && k < d.length && common[k] === d[k]) k++;
    common = common.slice(0, k);
  }
  const base = common.join(sep) || sep;
  const taken = new Set<string>();
  return paths.map((path) => {
    const ext = extname(path).toLowerCase();
    const stem = relative(base, VIDEO_EXTENSIONS.has(ext) ? path.slice(0, -ext.length) : path)
      .split(sep)
      .join('/');
    let key = stem;
    for (let k = 2; taken.has(key); k++) key = `${stem}-${k}`;
    taken.add(key);
    return { key, path };
  });
}

function textListPaths(file: string): string[] {
  const dir = dirname(file);
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (isAbsolute(l) ? l : resolve(dir, l)));
}

function fileListPaths(file: string, split: string): string[] {
  const want = split.toUpperCase();
  const rows = readFileListNames(file);
  if (want !== 'ALL' && rows.some((r) => r.split === undefined))
    throw new Error(`${file} has no Split column; leave --split out (or give --split all)`);
  return rows
    .filter((r) => want === 'ALL' || r.split === want)
    .map((r) => join(dirname(file), 'Videos', extname(r.fileName) ? r.fileName : `${r.fileName}.avi`));
}

/**
 * The sorted, de-duplicated video list of `input`: a folder (every video and DICOM file in it and
 * its subfolders, hidden ones and `exclude` left out), a FileList.csv (its videos in <folder>/Videos,
 * optionally one `split`), or any other file read as a list of paths, one a line (relative to the
 * list's folder; blank lines and # comments skipped). Listed files that do not exist stay in the
 * list: processing them records the failure.
 */
export function listBatchInput(input: string, opts: { split?: string; exclude?: string[] } = {}): BatchInput {
  const abs = resolve(input);
  if (!existsSync(abs)) throw new Error(`--input ${input} does not exist`);
  const exclude = (opts.exclude ?? []).filter(existsSync).map((p) => realpathSync(p));
  let kind: BatchInput['kind'];
  let videos: BatchVideo[];
  let ignored: string[] = [];
  if (statSync(abs).isDirectory()) {
    if (opts.split) throw new Error('--split applies to a FileList.csv input, not to a folder');
    kind = 'folder';
    ({ videos, ignored } = folderVideos(abs, exclude));
  } else {
    const csv = extname(abs).toLowerCase() === '.csv';
    if (opts.split && !csv)
      throw new Error(`--split applies to a FileList.csv input, not to ${basename(abs)}`);
    kind = csv ? 'filelist' : 'list';
    const paths = csv ? fileListPaths(abs, opts.split ?? 'all') : textListPaths(abs);
    videos = keysForPaths([...new Set(paths)].sort());
  }
  videos.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  for (const v of videos) hash.update(`${v.key}\0${v.path}\n`);
  return { kind, input: abs, split: opts.split, videos, ignored, listSha256: hash.digest('hex') };
}
