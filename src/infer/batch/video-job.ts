// One video of a segment-batch run, the same in the main process and in a worker process.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { badItem } from '../../data/bad-item.js';
import { atomicWriteFile } from '../../util/atomic.js';
import type { SegmentationModel } from '../model.js';
import { segmentVideo } from '../segment.js';
import { FAILURE_FILE } from './layout.js';

export interface VideoJob {
  key: string;
  path: string;
  outDir: string;
}

export interface JobSettings {
  overlap: boolean;
  overlay: boolean;
  batchSize: number;
  /** false: whole frames resized (`--no-crop`) instead of the cropped ultrasound sector. */
  crop: boolean;
  /** mm per pixel over what the files state (`--pixel_spacing_mm`). */
  pixelSpacingMm?: { x: number; y: number };
}

export type JobOutcome = { key: string; notes: string[] } & (
  { ok: true; frames: number; seconds: number } | { ok: false; file: string; problem: string }
);

/** What failure.json holds. */
export interface FailureRecord {
  path: string;
  file: string;
  problem: string;
  time: string;
}

export function writeFailureRecord(outDir: string, rec: Omit<FailureRecord, 'time'>): void {
  atomicWriteFile(
    join(outDir, FAILURE_FILE),
    JSON.stringify({ ...rec, time: new Date().toISOString() }) + '\n',
  );
}

/**
 * Segments one video into a fresh `outDir` (what an interrupted attempt left there is removed
 * first). A bad video (missing, corrupt, truncated, empty, unreadable DICOM) comes back as a
 * failure, recorded in failure.json; any other error is thrown, since it would hit every video.
 */
export async function runVideoJob(
  job: VideoJob,
  model: SegmentationModel,
  s: JobSettings,
): Promise<JobOutcome> {
  const notes: string[] = [];
  rmSync(job.outDir, { recursive: true, force: true });
  try {
    const summary = await segmentVideo(
      {
        videoPath: job.path,
        outDir: job.outDir,
        model,
        overlap: s.overlap,
        overlay: s.overlay,
        batchSize: s.batchSize,
        crop: s.crop ? undefined : false,
        pixelSpacingMm: s.pixelSpacingMm,
      },
      (m) => notes.push(m),
    );
    return { key: job.key, notes, ok: true, frames: summary.frames, seconds: summary.seconds.total };
  } catch (e) {
    const bad = badItem(e);
    if (!bad) throw e;
    rmSync(job.outDir, { recursive: true, force: true });
    writeFailureRecord(job.outDir, { path: job.path, ...bad });
    return { key: job.key, notes, ok: false, ...bad };
  }
}
