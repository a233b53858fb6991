// The videos of a temporal-masking (SSL) run, which needs no tracings: an EchoNet-style root
// (upstream's selection when it has VolumeTracings.csv, every listed video when it has none), a
// folder of videos, or a text file listing video paths (docs/transfer.md#unlabelled-pools).
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { listBatchInput } from '../infer/batch/inputs.js';
import { Rng } from '../util/rng.js';
import { defaultCacheDir } from './cache.js';
import { isDicomCineFile } from './dicom/detect.js';
import { openEchoNet, subsample, type OpenOptions } from './echonet.js';
import { DataError } from './errors.js';
import { readFileListNames } from './csv-files.js';
import type { SslVideo } from './samples.js';
import { DEFAULT_SEED } from '../defaults.js';

export interface SslVideoSet {
  videos: SslVideo[];
  /** Decoded-frame cache of these videos: `.unilvseg-cache` in the root, beside the folder, or beside the list. */
  cacheDir: string;
  /** What was read, for the log: e.g. "FileList.csv without tracings, split TRAIN". */
  source: string;
}

export interface SslVideoOptions extends OpenOptions {
  /** Stream seed of the validation hold-out of a pool without splits. */
  seed?: number;
}

/** Whether `path` is an EchoNet-style root (a folder holding FileList.csv). */
export const isEchoNetRoot = (path: string): boolean =>
  existsSync(join(path, 'FileList.csv')) && statSync(path).isDirectory();

/** A pool without splits keeps this share of its videos (at least one) for the validation loss. */
export const HOLD_OUT_SHARE = 1 / 8;

/**
 * The training and validation videos of an SSL run on `dataPath`. An EchoNet root gives its
 * TRAIN and VAL splits. A folder (searched recursively) or a list file has no splits: every
 * video trains and `valPath` (a root, whose VAL split is taken, or a folder or list) gives the
 * validation videos, or without it a seeded eighth of the pool is held out for them.
 */
export function openSslVideos(
  dataPath: string,
  valPath: string | undefined,
  opts: SslVideoOptions = {},
): { train: SslVideoSet; val: SslVideoSet } {
  if (!existsSync(dataPath)) throw new DataError(dataPath, 'no such folder or file (--data_path)');
  if (valPath !== undefined && !existsSync(valPath))
    throw new DataError(valPath, 'no such folder or file (--val_data)');
  const { pctTrain, ...rest } = opts;
  const pick = (set: SslVideoSet): SslVideoSet =>
    pctTrain === undefined
      ? set
      : { ...set, videos: subsample(set.videos, pctTrain, opts.pctSeed ?? DEFAULT_SEED) };
  if (isEchoNetRoot(dataPath)) {
    const train = pick(rootSplit(dataPath, 'train', rest));
    return { train, val: valPath ? valVideos(valPath, rest) : rootSplit(dataPath, 'val', rest) };
  }
  const all = poolVideos(dataPath, rest);
  if (valPath) return { train: pick(all), val: valVideos(valPath, rest) };
  if (all.videos.length < 2)
    throw new DataError(
      dataPath,
      `${all.videos.length} video(s): a pool without --val_data needs two or more (one is held out for validation)`,
    );
  const held = new Set(
    new Rng(opts.seed ?? 0).choose(
      all.videos.length,
      Math.max(1, Math.round(all.videos.length * HOLD_OUT_SHARE)),
    ),
  );
  const part = (inVal: boolean, what: string): SslVideoSet => ({
    ...all,
    videos: all.videos.filter((_, i) => held.has(i) === inVal),
    source: `${all.source}, ${what}`,
  });
  return { train: pick(part(false, 'training part')), val: part(true, `held-out eighth (${held.size})`) };
}

function valVideos(valPath: string, opts: OpenOptions): SslVideoSet {
  return isEchoNetRoot(valPath) ? rootSplit(valPath, 'val', opts) : poolVideos(valPath, opts);
}

/** One split of an EchoNet root: upstream's traced videos, or with no tracings every listed one. */
function rootSplit(root: string, split: 'train' | 'val', opts: OpenOptions): SslVideoSet {
  const cacheDir = defaultCacheDir(root);
  if (existsSync(join(root, 'VolumeTracings.csv')))
    return { videos: openEchoNet(root, split, opts), cacheDir, source: `${root} (split ${split})` };
  const list = join(root, 'FileList.csv');
  const rows = readFileListNames(list);
  if (rows.some((r) => r.split === undefined))
    throw new DataError(list, 'has no Split column; give the Videos folder itself as --data_path instead');
  const want = split.toUpperCase();
  const videos = rows
    .filter((r) => r.split === want)
    .map((r) => {
      const fileName = /\.[A-Za-z0-9]+$/.test(r.fileName) ? r.fileName : `${r.fileName}.avi`;
      return { fileName, path: join(root, 'Videos', fileName) };
    });
  return { videos, cacheDir, source: `${list} without VolumeTracings.csv (split ${want})` };
}

/**
 * Every video of a folder (and its subfolders) or of a list file, in a stable order. DICOM files
 * are reported and left out: training reads 112x112 videos through ffmpeg.
 */
function poolVideos(path: string, opts: OpenOptions): SslVideoSet {
  const input = listBatchInput(path);
  const videos: SslVideo[] = [];
  for (const v of input.videos) {
    if (isDicomCineFile(v.path)) {
      const problem = 'DICOM files are not read for training; export 112x112 AVIs (EchoNet frames) first';
      if (opts.strict || !opts.onBadItem) throw new DataError(v.path, problem);
      opts.onBadItem(v.path, problem);
      continue;
    }
    videos.push({ fileName: basename(v.path), path: v.path });
  }
  if (videos.length === 0)
    throw new DataError(
      path,
      input.kind === 'folder'
        ? 'no videos in this folder or its subfolders'
        : 'lists no videos (one path a line, relative to the list)',
    );
  // A folder's cache goes beside it, as an EchoNet root's beside Videos/, never into the folder
  // that users and other tools list; a list's beside the list.
  const folder = input.kind === 'folder' ? dirname(input.input) : dirname(resolve(path));
  return {
    videos,
    cacheDir: defaultCacheDir(folder),
    source: `${path} (${input.kind}, ${videos.length} videos)`,
  };
}
