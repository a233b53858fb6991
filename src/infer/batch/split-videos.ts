import { join } from 'node:path';
import { readFileListNames } from '../../data/csv-files.js';
import { shardItems, type Shard } from './shard.js';

/**
 * The videos of a split in FileList order: every listed one, since whole-video inference needs no
 * tracings, and only the FileName (and Split) columns are read, so unlabelled lists work.
 */
export function splitVideos(
  dataPath: string,
  split: string,
  shard?: Shard,
): { name: string; path: string }[] {
  const want = split.toUpperCase();
  const list = join(dataPath, 'FileList.csv');
  const all = readFileListNames(list);
  if (want !== 'ALL' && all.some((r) => r.split === undefined))
    throw new Error(`${list} has no Split column; use --split all`);
  const rows = all.filter((r) => want === 'ALL' || r.split === want);
  const videos = rows.map((r) => {
    const name = /\.[A-Za-z0-9]+$/.test(r.fileName) ? r.fileName : `${r.fileName}.avi`;
    return { name, path: join(dataPath, 'Videos', name) };
  });
  return shardItems(videos, shard);
}
