/**
 * One entry for every video a user may bring: DICOM files (recognised by content, read by the
 * DICOM reader) and anything ffmpeg reads (AVI, MP4, ...). Frames come back at their native size
 * with the frame rate, the pixel size when known, and where each came from.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { hasDicomName } from './dicom/decode.js';
import { isDicomCineFile, isDicomFile } from './dicom/detect.js';
import { readDicomVideo, type DicomInfo } from './dicom/read.js';
import type { PixelSpacing } from './dicom/regions.js';
import { decodeVideo, type DecodedVideo } from './video.js';

export type { PixelSpacing } from './dicom/regions.js';

export interface VideoSource {
  path: string;
  format: 'dicom' | 'ffmpeg';
  width: number;
  height: number;
  frames: number;
  fps: number;
  /** The DICOM attribute the frame rate came from, or "container" (ffmpeg). */
  fpsFrom: string;
  dicom?: DicomInfo;
}

export interface OpenedVideo extends DecodedVideo {
  /** mm per pixel, or null when neither the file nor the caller gives one. */
  spacing: PixelSpacing | null;
  source: VideoSource;
}

export interface OpenVideoOptions {
  /** mm per pixel from the command line; it takes precedence over the file's own. */
  pixelSpacingMm?: { x: number; y: number };
}

export async function openVideo(path: string, opts: OpenVideoOptions = {}): Promise<OpenedVideo> {
  const flag = opts.pixelSpacingMm ? { ...opts.pixelSpacingMm, source: 'command line' as const } : null;
  // DICOM by content; a file named as DICOM goes to the DICOM reader too (ffmpeg never guesses at it).
  if (isDicomFile(path) || hasDicomName(path)) {
    const d = await readDicomVideo(path);
    return {
      frames: d.frames,
      count: d.count,
      height: d.height,
      width: d.width,
      fps: d.fps,
      spacing: flag ?? d.spacing,
      source: {
        path,
        format: 'dicom',
        width: d.width,
        height: d.height,
        frames: d.count,
        fps: d.fps,
        fpsFrom: d.dicom.fpsFrom,
        dicom: d.dicom,
      },
    };
  }
  const video = await decodeVideo(path);
  const { width, height, count, fps } = video;
  return {
    ...video,
    spacing: flag,
    source: { path, format: 'ffmpeg', width, height, frames: count, fps, fpsFrom: 'container' },
  };
}

/** `--pixel_spacing_mm X[,Y]`: mm per pixel along a row (X) and down a column (Y; default X). */
export function parsePixelSpacing(text: string): { x: number; y: number } {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (
    parts.length < 1 ||
    parts.length > 2 ||
    parts.some((p) => p === '') ||
    !values.every((v) => v > 0 && Number.isFinite(v))
  )
    throw new Error(
      `--pixel-spacing-mm takes one or two positive numbers "X[,Y]" (mm per pixel), got "${text}"`,
    );
  return { x: values[0], y: values[1] ?? values[0] };
}

/** File name extensions taken as videos in a folder (DICOM files are found by content whatever their name). */
export const VIDEO_EXTENSIONS = new Set([
  '.avi',
  '.mp4',
  '.m4v',
  '.mov',
  '.mkv',
  '.webm',
  '.wmv',
  '.mpg',
  '.mpeg',
  '.ogv',
  '.nut',
  '.dcm',
  '.dicom',
]);

export interface FolderVideo {
  path: string;
  /** File name without a video extension; unique within the folder (output subfolder name). */
  name: string;
}

/**
 * The videos of a folder (not its subfolders), sorted by name: DICOM files by content, others by
 * extension. Other files (CSV, text, a DICOMDIR index) are returned as `ignored`.
 */
export function listVideoFolder(dir: string): { videos: FolderVideo[]; ignored: string[] } {
  const videos: FolderVideo[] = [];
  const ignored: string[] = [];
  const taken = new Set<string>();
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (entry.startsWith('.') || !statSync(path).isFile()) continue;
    const ext = extname(entry).toLowerCase();
    if (!(VIDEO_EXTENSIONS.has(ext) || isDicomCineFile(path))) {
      ignored.push(entry);
      continue;
    }
    const stem = VIDEO_EXTENSIONS.has(ext) ? entry.slice(0, -ext.length) : entry;
    let name = stem;
    for (let k = 2; taken.has(name); k++) name = `${stem}-${k}`;
    taken.add(name);
    videos.push({ path, name });
  }
  return { videos, ignored };
}
