import { join } from 'node:path';
import { readFileList } from '../../data/filelist.js';
import { shardItems, type Shard } from './shard.js';

/** The videos of a split in FileList order (every listed one: whole-video inference needs no tracings). */
export function splitVideos(
  dataPath: string,
  split: string,
  shard?: Shard,
): { name: string; path: string }[] {
  const want = split.toUpperCase();
  const rows = readFileList(join(dataPath, 'FileList.csv')).filter((r) => want === 'ALL' || r.split === want);
  const videos = rows.map((r) => {
    const name = /\.[A-Za-z0-9]+$/.test(r.fileName) ? r.fileName : `${r.fileName}.avi`;
    return { name, path: join(dataPath, 'Videos', name) };
  });
  return shardItems(videos, shard);
}
