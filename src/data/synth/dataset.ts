/**
 * Writes a synthetic dataset in EchoNet-Dynamic's layout (docs/upstream.md#echonet-layout):
 *   FileList.csv, VolumeTracings.csv, Videos/<name>.avi
 * plus per-frame ground truth in Masks/ (see truth.ts). Deterministic from the seed.
 */
import { join } from 'node:path';
import { atomicWriteFile } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { Rng } from '../../util/rng.js';
import { encodeVideo } from '../video.js';
import { FILE_LIST_COLUMNS, fileListLine } from '../filelist.js';
import { fixedText, volumeTracingsLines, VOLUME_TRACINGS_HEADER } from '../tracings.js';
import { makeTimeline, valveOpening } from './motion.js';
import { SIZE, sampleParams, type SynthOptions } from './params.js';
import { VideoRenderer } from './render.js';
import { writeGroundTruthMasks } from './truth.js';
import { ejectionFraction, volumeFromTracing } from './volume.js';

export interface DatasetOptions extends SynthOptions {
  out: string;
  videos: number;
  seed: number;
  /** Show progress (default true). */
  progress?: boolean;
}

export interface SynthVideo {
  name: string;
  split: string;
  fps: number;
  frames: number;
  ef: number;
  esv: number;
  edv: number;
  tracedEs: number;
  tracedEd: number;
  /** Rows as written to VolumeTracings.csv: ES frame first, then ED. */
  tracings: { frame: number; rows: number[][] }[];
}

/** Stream keys for Rng.derive, so adding a stream never shifts another. */
const STREAM = { names: 1, splits: 2, params: 3, motion: 4, pixels: 5 } as const;

/** EchoNet-like names: "0X" and 16 upper-case hex digits, unique within the dataset. */
function videoNames(seed: number, count: number): string[] {
  const rng = Rng.derive(seed, STREAM.names);
  const names = new Set<string>();
  while (names.size < count) {
    const hex = (
      rng.nextU32().toString(16).padStart(8, '0') + rng.nextU32().toString(16).padStart(8, '0')
    ).toUpperCase();
    names.add(`0X${hex}`);
  }
  return [...names];
}

/** TRAIN/VAL/TEST about 75/12.5/12.5 %, shuffled by the seed; from 3 videos on every split is used. */
export function assignSplits(seed: number, count: number): string[] {
  const eighth = Math.round(count / 8);
  const nVal = count >= 3 ? Math.max(1, eighth) : count === 2 ? 1 : 0;
  const nTest = count >= 3 ? Math.max(1, eighth) : 0;
  const splits = Array.from({ length: count }, (_, i) =>
    i < nVal ? 'VAL' : i < nVal + nTest ? 'TEST' : 'TRAIN',
  );
  return Rng.derive(seed, STREAM.splits).shuffle(splits);
}

/**
 * Video `index` of the dataset of `opts.seed`, rendered in memory (JavaScript only, no ffmpeg):
 * RGB frames, per-frame masks and the traced frames' chords. Depends on the seed and the index,
 * not on the number of videos.
 */
export async function renderSynthVideo(opts: SynthOptions & { seed: number }, index: number) {
  const params = sampleParams(Rng.derive(opts.seed, STREAM.params, index), opts);
  const { frames, fps } = params;
  const timeline = makeTimeline(Rng.derive(opts.seed, STREAM.motion, index), frames, fps, params.heartRate);
  const renderer = new VideoRenderer(params, Rng.derive(opts.seed, STREAM.pixels, index));
  const frameBytes = SIZE * SIZE * 3;
  const rgb = new Uint8Array(frames * frameBytes);
  const masks = new Uint8Array(frames * SIZE * SIZE);
  const traced = new Map<number, number[][]>();
  for (let t = 0; t < frames; t++) {
    const st = renderer.render(
      t,
      timeline.k[t],
      valveOpening(timeline.phase[t]),
      timeline.breath[t],
      rgb.subarray(t * frameBytes, (t + 1) * frameBytes),
      masks.subarray(t * SIZE * SIZE, (t + 1) * SIZE * SIZE),
    );
    if (t === timeline.tracedEd || t === timeline.tracedEs) {
      // Volumes are computed from the coordinates as written, so the CSVs agree exactly.
      traced.set(
        t,
        renderer.model.trace(st).map((row) => row.map((c) => Number(fixedText(c, 4)))),
      );
    }
    // Let the previous video's encoder drain its stdin while this one renders.
    if (t % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
  return { params, timeline, rgb, masks, traced };
}

/** Generate one video's frames, masks, tracings and truth; the encode runs in the background. */
async function makeVideo(
  opts: DatasetOptions,
  index: number,
  name: string,
  split: string,
): Promise<{ video: SynthVideo; encoded: Promise<void> }> {
  const { params, timeline, rgb, masks, traced } = await renderSynthVideo(opts, index);
  const { frames, fps } = params;
  const esRows = traced.get(timeline.tracedEs)!;
  const edRows = traced.get(timeline.tracedEd)!;
  const esv = volumeFromTracing(esRows);
  const edv = volumeFromTracing(edRows);
  const ef = ejectionFraction(edv, esv);
  writeGroundTruthMasks(opts.out, name, {
    masks,
    frames,
    height: SIZE,
    width: SIZE,
    fps,
    edFrames: timeline.edFrames,
    esFrames: timeline.esFrames,
    tracedEd: timeline.tracedEd,
    tracedEs: timeline.tracedEs,
    efTrue: ef,
    edv,
    esv,
    heartRate: params.heartRate,
  });
  const encoded = encodeVideo(join(opts.out, 'Videos', `${name}.avi`), rgb, {
    width: SIZE,
    height: SIZE,
    fps,
    codec: 'mjpeg',
  });
  const video: SynthVideo = {
    name,
    split,
    fps,
    frames,
    ef,
    esv,
    edv,
    tracedEs: timeline.tracedEs,
    tracedEd: timeline.tracedEd,
    tracings: [
      { frame: timeline.tracedEs, rows: esRows },
      { frame: timeline.tracedEd, rows: edRows },
    ],
  };
  return { video, encoded };
}

export async function generateDataset(opts: DatasetOptions): Promise<SynthVideo[]> {
  if (!Number.isInteger(opts.videos) || opts.videos < 1)
    throw new Error(`--videos must be a positive integer, got ${opts.videos}`);
  if (!Number.isInteger(opts.framesMin) || opts.framesMin < 30)
    throw new Error(`--frames-min must be an integer >= 30, got ${opts.framesMin}`);
  if (!Number.isInteger(opts.framesMax) || opts.framesMax < opts.framesMin) {
    throw new Error(
      `--frames-max must be an integer >= --frames-min (${opts.framesMin}), got ${opts.framesMax}`,
    );
  }
  if (opts.fps !== undefined && !(opts.fps >= 1 && opts.fps <= 240))
    throw new Error(`--fps must be in [1, 240], got ${opts.fps}`);
  const names = videoNames(opts.seed, opts.videos);
  const splits = assignSplits(opts.seed, opts.videos);
  const progress = opts.progress === false ? undefined : new Progress('synth', opts.videos);
  const videos: SynthVideo[] = [];
  let pending: Promise<void> = Promise.resolve();
  try {
    for (let i = 0; i < opts.videos; i++) {
      const { video, encoded } = await makeVideo(opts, i, names[i], splits[i]);
      encoded.catch(() => undefined); // awaited below; this only stops an early failure counting as unhandled
      // At most one encode in flight: it overlaps the next render without piling up memory.
      await pending;
      pending = encoded;
      videos.push(video);
      progress?.tick(1, video.name);
    }
    await pending;
  } finally {
    progress?.stop();
  }
  writeCsvs(opts.out, videos);
  return videos;
}

function writeCsvs(out: string, videos: SynthVideo[]): void {
  const fileList = [FILE_LIST_COLUMNS.join(',')];
  const tracings = [VOLUME_TRACINGS_HEADER];
  for (const v of videos) {
    fileList.push(
      fileListLine({
        fileName: v.name,
        ef: v.ef,
        esv: v.esv,
        edv: v.edv,
        frameHeight: SIZE,
        frameWidth: SIZE,
        fps: v.fps,
        numberOfFrames: v.frames,
        split: v.split,
      }),
    );
    tracings.push(...volumeTracingsLines(`${v.name}.avi`, v.tracings));
  }
  atomicWriteFile(join(out, 'FileList.csv'), fileList.join('\n') + '\n');
  atomicWriteFile(join(out, 'VolumeTracings.csv'), tracings.join('\n') + '\n');
}
