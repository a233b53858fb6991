import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { atomicWriteFile } from '../util/atomic.js';
import { DataError } from './errors.js';
import { decodeVideo, type DecodedVideo } from './video.js';

/**
 * On-disk cache of decoded videos, so an epoch over 10,000 AVIs costs file reads instead of
 * 10,000 ffmpeg runs.
 *
 * Folder: `$UNILVSEG_CACHE` if set, else `<data_path>/.unilvseg-cache/`. One file per source
 * video, `<name>.<hash of its absolute path>.frames`:
 *   8 bytes magic "ULVSFRM1" | uint32 LE n | n bytes JSON header | raw uint8 frames
 * The header holds the source's absolute path, size and mtime: a cache file whose source changed
 * (or vanished) is ignored and rewritten. Frames whose three channels are equal everywhere (all
 * of EchoNet: gray content stored as colour) are stored as one channel, a third of the disk
 * (about 22 GB instead of 66 GB for the full dataset), and expanded back to RGB when read.
 * Deleting the folder is always safe.
 */
export const CACHE_ENV = 'UNILVSEG_CACHE';
const MAGIC = Buffer.from('ULVSFRM1', 'latin1');

interface Header {
  source: string;
  size: number;
  mtimeMs: number;
  count: number;
  height: number;
  width: number;
  fps: number;
  channels: 1 | 3;
}

/** The cache folder for an EchoNet root (`$UNILVSEG_CACHE` wins). */
export function defaultCacheDir(dataRoot: string): string {
  return process.env[CACHE_ENV] || join(dataRoot, '.unilvseg-cache');
}

function isGray(frames: Uint8Array): boolean {
  for (let i = 0; i < frames.length; i += 3) {
    if (frames[i] !== frames[i + 1] || frames[i] !== frames[i + 2]) return false;
  }
  return true;
}

/** [n] gray -> [n, 3] RGB, four pixels (three 32-bit words) at a time. */
function expandGray(g: Uint8Array): Uint8Array {
  const out = new Uint8Array(g.length * 3);
  const words = new Uint32Array(out.buffer, 0, Math.floor(g.length / 4) * 3);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  let i = 0;
  for (let w = 0; w < words.length; w += 3, i += 4) {
    const a = g[i],
      b = g[i + 1],
      c = g[i + 2],
      d = g[i + 3];
    // Bytes a a a b | b b c c | c d d d in memory order.
    if (little) {
      words[w] = (a | (a << 8) | (a << 16) | (b << 24)) >>> 0;
      words[w + 1] = (b | (b << 8) | (c << 16) | (c << 24)) >>> 0;
      words[w + 2] = (c | (d << 8) | (d << 16) | (d << 24)) >>> 0;
    } else {
      words[w] = ((a << 24) | (a << 16) | (a << 8) | b) >>> 0;
      words[w + 1] = ((b << 24) | (b << 16) | (c << 8) | c) >>> 0;
      words[w + 2] = ((c << 24) | (d << 16) | (d << 8) | d) >>> 0;
    }
  }
  for (; i < g.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g[i];
  return out;
}

export class FrameCache {
  private warned = false;

  constructor(readonly dir: string) {}

  /** Where the decoded frames of `source` live. */
  pathFor(source: string): string {
    const abs = resolve(source);
    const hash = createHash('sha1').update(abs).digest('hex').slice(0, 12);
    return join(this.dir, `${basename(abs)}.${hash}.frames`);
  }

  /** Decoded frames of a video, from the cache when it is current, else decoded and stored. */
  async getFrames(video: { path: string }): Promise<DecodedVideo> {
    const source = resolve(video.path);
    let st;
    try {
      st = statSync(source);
    } catch {
      throw new DataError(source, 'no such file (missing video)');
    }
    const cached = this.read(source, st.size, st.mtimeMs);
    if (cached) return cached;
    const decoded = await decodeVideo(source);
    this.write(
      {
        source,
        size: st.size,
        mtimeMs: st.mtimeMs,
        count: decoded.count,
        height: decoded.height,
        width: decoded.width,
        fps: decoded.fps,
        channels: 3,
      },
      decoded.frames,
    );
    return decoded;
  }

  /** The cached frames if the cache file exists, is whole and matches the source; else null. */
  private read(source: string, size: number, mtimeMs: number): DecodedVideo | null {
    let buf: Buffer;
    try {
      buf = readFileSync(this.pathFor(source)); // the one read: header and frames together
    } catch {
      return null;
    }
    if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) return null;
    const n = buf.readUInt32LE(8);
    let h: Header;
    try {
      h = JSON.parse(buf.toString('utf8', 12, 12 + n)) as Header;
    } catch {
      return null;
    }
    if (h.source !== source || h.size !== size || h.mtimeMs !== mtimeMs) return null;
    const pixels = h.count * h.height * h.width;
    const data = buf.subarray(12 + n);
    // A torn or foreign file has the wrong length: decode again rather than trust it.
    if (data.length !== pixels * h.channels) return null;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length); // a plain view: Buffer indexing is slower
    const frames = h.channels === 3 ? bytes : expandGray(bytes);
    return { frames, count: h.count, height: h.height, width: h.width, fps: h.fps };
  }

  /**
   * Store atomically (temporary file, fsync, rename). Not util/atomic's atomicWriteFile: its
   * temporary name is per process, and loader worker threads of one process may write the same
   * video at once. A failed write only costs speed, so it warns once instead of failing the run.
   */
  private write(h: Header, rgb: Uint8Array): void {
    const gray = isGray(rgb);
    let data = rgb;
    if (gray) {
      data = new Uint8Array(rgb.length / 3);
      for (let i = 0, o = 0; i < data.length; i++, o += 3) data[i] = rgb[o];
    }
    const json = Buffer.from(JSON.stringify({ ...h, channels: gray ? 1 : 3 }), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(json.length);
    const target = this.pathFor(h.source);
    try {
      atomicWriteFile(target, [MAGIC, len, json, data]);
    } catch (e) {
      if (!this.warned) {
        this.warned = true;
        process.emitWarning(
          `frame cache ${this.dir} is not writable, videos will be decoded every time (${(e as Error).message})`,
        );
      }
    }
  }
}

/** Frames of an EchoNet video through the default cache of its root (`<root>/Videos/<file>`). */
/** The default cache of the dataset a video belongs to (`<root>/Videos/<file>` -> `<root>`'s cache). */
export function cacheDirForVideo(videoPath: string): string {
  return defaultCacheDir(dirname(dirname(resolve(videoPath))));
}

export function getFrames(
  video: { path: string },
  cacheDir = cacheDirForVideo(video.path),
): Promise<DecodedVideo> {
  return new FrameCache(cacheDir).getFrames(video);
}
