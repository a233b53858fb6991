// The videos of the served folder: listing, and browser-playable copies of the ones browsers cannot
// play (EchoNet's MJPEG AVI), transcoded on first request and kept in a cache outside the folder
// (the folder itself is only read). DICOM cine loops are listed and served as they are: the page
// decodes them with segment-video's DICOM reader.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, relative } from 'node:path';
import { CACHE_ENV } from '../data/cache.js';
import { isDicomCineFile } from '../data/dicom/detect.js';
import { transcodeVideo, type BrowserFormat } from '../data/video.js';

/** Extensions listed and served; anything else in the folder (CSVs, masks, caches) is not exposed. */
export const VIDEO_EXTENSIONS = ['.avi', '.mp4', '.webm', '.mov', '.m4v', '.mkv', '.ogv'];
/** Formats browsers decode in a <video> element as they are. */
const PLAYABLE: Record<string, BrowserFormat> = { '.mp4': 'mp4', '.m4v': 'mp4', '.webm': 'webm' };

export interface VideoEntry {
  /** Path below the served folder, with forward slashes. */
  path: string;
  size: number;
  /** Whether browsers play the file as it is (otherwise it is transcoded when requested). */
  playable: boolean;
  /** A DICOM file, served as it is for the page to decode. */
  dicom: boolean;
}

export const isVideoFile = (name: string): boolean => VIDEO_EXTENSIONS.includes(extname(name).toLowerCase());
export const playableFormat = (name: string): BrowserFormat | undefined =>
  PLAYABLE[extname(name).toLowerCase()];

/** A DICOM cine file (isDicomCineFile) to list and serve as it is; `path` is a real path. */
export const isDicomVideo = (path: string): boolean => !isVideoFile(basename(path)) && isDicomCineFile(path);

/**
 * Video files under `root`, depth-first in name order, skipping hidden entries (such as
 * .unilvseg-cache) and not following symbolic links (a link out of the folder is never listed).
 */
export function listVideos(root: string, maxDepth = 4): VideoEntry[] {
  const out: VideoEntry[] = [];
  const walk = (dir: string, depth: number): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = join(dir, e.name);
      if (e.isDirectory() && depth < maxDepth) walk(abs, depth + 1);
      else if (e.isFile()) {
        const dicom = isDicomVideo(abs);
        if (!dicom && !isVideoFile(e.name)) continue;
        const rel = relative(root, abs).split('\\').join('/');
        out.push({
          path: rel,
          size: statSync(abs).size,
          playable: !dicom && playableFormat(e.name) !== undefined,
          dicom,
        });
      }
    }
  };
  walk(root, 0);
  return out;
}

/** Browser-playable copies of videos, keyed on the source's path, size and modification time. */
export class TranscodeCache {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(readonly dir: string = defaultTranscodeDir()) {}

  /** The copy of `source` (a real path) in `format`, made now if it is missing or stale. */
  async get(source: string, format: BrowserFormat): Promise<string> {
    const st = statSync(source);
    const key = createHash('sha256')
      .update(`${source}\0${st.size}\0${st.mtimeMs}`)
      .digest('hex')
      .slice(0, 24);
    const target = join(this.dir, `${key}.${format}`);
    if (existsSync(target)) return target;
    let job = this.pending.get(target);
    if (!job) {
      // One ffmpeg run per file however many requests (a <video> element sends several).
      job = transcodeVideo(source, target, format)
        .then(() => target)
        .finally(() => this.pending.delete(target));
      this.pending.set(target, job);
    }
    return job;
  }
}

function defaultTranscodeDir(): string {
  const base = process.env[CACHE_ENV];
  return base ? join(base, 'transcoded') : join(tmpdir(), 'unilvseg-transcoded');
}
