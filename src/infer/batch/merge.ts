// `unilvseg merge-batch`: the results of every shard of a segment-batch output as one results.csv
// (a row per video of the input, done or not) and one failures.csv, and what is still missing.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { atomicWriteFile } from '../../util/atomic.js';
import { csvText } from '../../util/failures.js';
import { listBatchInput, type BatchVideo } from './inputs.js';
import { FAILURE_FILE, readShardManifests, videoDir, videoState, type VideoState } from './layout.js';
import { OUTPUT_FILES } from '../segment-core.js';
import { shardTag } from './shard.js';
import type { FailureRecord } from './video-job.js';

export interface MergeOptions {
  output: string;
  /** The input to check against (default: the videos the shards' manifests list). */
  input?: string;
  split?: string;
}

export interface MergeResult {
  videos: number;
  done: number;
  failed: number;
  /** Videos without a result (named), and how many more a shard that never started would have listed. */
  missing: BatchVideo[];
  unlisted: number;
  /** Shards of the latest partition with no manifest: they never started. */
  neverStarted: string[];
  files: { results: string; failures: string };
}

/** The fields of a video's summary.json that results.csv reports (volumes only where spacing was known). */
interface SummaryFields {
  frames: number;
  fps: number;
  beats: { ed: number; es: number }[];
  meanEf: number | null;
  meanEdvMl?: number | null;
  meanEsvMl?: number | null;
  seconds: { total: number };
}

const RESULT_COLUMNS = [
  'path',
  'output',
  'status',
  'frames',
  'fps',
  'ed_frames',
  'es_frames',
  'ef',
  'edv_ml',
  'esv_ml',
  'seconds',
  'problem',
];

const fixed = (x: number | null | undefined, digits: number) =>
  typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '';

function resultRow(out: string, v: BatchVideo, state: VideoState): (string | number)[] {
  const dir = videoDir(out, v.key);
  const output = `videos/${v.key}`;
  if (state === 'missing') return [v.path, output, state, '', '', '', '', '', '', '', '', ''];
  if (state === 'failed')
    return [v.path, output, state, '', '', '', '', '', '', '', '', failureOf(dir).problem];
  const s = JSON.parse(readFileSync(join(dir, OUTPUT_FILES.summary), 'utf8')) as SummaryFields;
  return [
    v.path,
    output,
    state,
    s.frames,
    fixed(s.fps, 3),
    s.beats.map((b) => b.ed).join(' '),
    s.beats.map((b) => b.es).join(' '),
    fixed(s.meanEf, 2),
    fixed(s.meanEdvMl, 2),
    fixed(s.meanEsvMl, 2),
    fixed(s.seconds.total, 3),
    '',
  ];
}

const failureOf = (dir: string) => JSON.parse(readFileSync(join(dir, FAILURE_FILE), 'utf8')) as FailureRecord;

export function mergeBatch(o: MergeOptions): MergeResult {
  const out = resolve(o.output);
  const manifests = readShardManifests(out).map((m) => m.manifest);
  if (!manifests.length && !o.input)
    throw new Error(`${join(out, 'shards')} holds no shard manifest: no segment-batch ran into ${out} yet`);
  const overlay = manifests.some((m) => m.settings.overlay);

  // The videos to account for: the input re-listed, or every video a shard manifest lists.
  const byKey = new Map<string, BatchVideo>();
  let unlisted = 0;
  const neverStarted: string[] = [];
  if (o.input) {
    for (const v of listBatchInput(o.input, { split: o.split, exclude: [out] }).videos) byKey.set(v.key, v);
  } else {
    for (const m of manifests) for (const v of m.videos) byKey.set(v.key, v);
    const latest = manifests.reduce((a, b) => (b.started > a.started ? b : a));
    const present = new Set(
      manifests
        .filter((m) => m.input.listSha256 === latest.input.listSha256 && m.shard.count === latest.shard.count)
        .map((m) => m.shard.index),
    );
    for (let i = 0; i < latest.shard.count; i++)
      if (!present.has(i)) neverStarted.push(shardTag({ index: i, count: latest.shard.count }));
    unlisted = Math.max(0, latest.input.videos - byKey.size);
  }
  const videos = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const states = videos.map((v) => videoState(out, v.key, overlay));
  const failures = videos.flatMap((v, i) => {
    if (states[i] !== 'failed') return [];
    return [[v.path, failureOf(videoDir(out, v.key)).problem]];
  });
  const files = { results: join(out, 'results.csv'), failures: join(out, 'failures.csv') };
  atomicWriteFile(
    files.results,
    csvText(
      RESULT_COLUMNS,
      videos.map((v, i) => resultRow(out, v, states[i])),
    ),
  );
  atomicWriteFile(files.failures, csvText(['path', 'problem'], failures));
  return {
    videos: videos.length + unlisted,
    done: states.filter((s) => s === 'done').length,
    failed: failures.length,
    missing: videos.filter((_, i) => states[i] === 'missing'),
    unlisted,
    neverStarted,
    files,
  };
}
