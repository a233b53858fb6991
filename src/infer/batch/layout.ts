// Where segment-batch writes, and how a later run (or merge-batch) tells what is done:
//   <out>/videos/<key>/    segment-video's outputs; summary.json is written last, so its presence
//                          (with the other required outputs) marks the video complete
//   <out>/videos/<key>/failure.json   the last attempt failed: why (removed when a retry succeeds)
//   <out>/shards/<tag>.json            the shard's manifest (input, model, settings, its videos) and result
//   <out>/shards/<tag>.jsonl           its JSON-lines log
//   <out>/shards/<tag>.failures.csv    the videos it skipped, with why
// Each shard writes only its own shard files and its own videos' folders, so shards never race.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT_FILES, type OutputKind } from '../segment-core.js';
import type { BatchVideo } from './inputs.js';
import type { Shard } from './shard.js';

export const VIDEOS_DIR = 'videos';
export const SHARDS_DIR = 'shards';
export const FAILURE_FILE = 'failure.json';

export const videoDir = (out: string, key: string): string => join(out, VIDEOS_DIR, ...key.split('/'));

/** The outputs a complete video has: all of segment-video's, the overlay only when asked for. */
export function requiredOutputs(overlay: boolean): OutputKind[] {
  return (Object.keys(OUTPUT_FILES) as OutputKind[]).filter((k) => overlay || k !== 'overlay');
}

export type VideoState = 'done' | 'failed' | 'missing';

/** done: summary.json and every required output present; failed: failure.json; else missing. */
export function videoState(out: string, key: string, overlay: boolean): VideoState {
  const dir = videoDir(out, key);
  if (requiredOutputs(overlay).every((k) => existsSync(join(dir, OUTPUT_FILES[k])))) return 'done';
  return existsSync(join(dir, FAILURE_FILE)) ? 'failed' : 'missing';
}

/** Settings that change a video's outputs: shards of one output folder must agree on them. */
export interface OutputSettings {
  model: { sha256: string; describe: string };
  overlap: boolean;
  overlay: boolean;
  crop: boolean;
  pixelSpacingMm: { x: number; y: number } | null;
}

/** <out>/shards/<tag>.json */
export interface ShardManifest {
  input: { kind: string; path: string; split: string | null; videos: number; listSha256: string };
  shard: Shard;
  shardFrom: string;
  settings: OutputSettings;
  workers: number;
  threads: number;
  host: string;
  started: string;
  /** This shard's videos. */
  videos: BatchVideo[];
  /** Set when the run ends. */
  result: ShardResult | null;
}

export interface ShardResult {
  finished: string;
  /** Videos of the shard already complete before this run. */
  alreadyDone: number;
  done: number;
  failed: number;
  frames: number;
  wallSeconds: number;
  /** Worker processes x intra-op threads: the cores this run was given. */
  cores: number;
  videosPerHour: number | null;
  videosPerCoreHour: number | null;
}

/** Every shard manifest in `out`, sorted by file name. */
export function readShardManifests(out: string): { file: string; manifest: ShardManifest }[] {
  const dir = join(out, SHARDS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^shard-\d+-of-\d+\.json$/.test(f))
    .sort()
    .map((f) => ({
      file: join(dir, f),
      manifest: JSON.parse(readFileSync(join(dir, f), 'utf8')) as ShardManifest,
    }));
}
