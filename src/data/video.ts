/**
 * Video reading and writing through ffmpeg (static binaries from @ffmpeg-installer /
 * @ffprobe-installer, or others: ffmpeg-binaries.ts chooses; driven by fluent-ffmpeg). Frames are
 * RGB24 arrays laid out [F, H, W, 3].
 */
import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { isDicomFile } from './dicom/detect.js';
import { VideoError } from './errors.js';
import { ffmpegBinaries, type FfmpegBinaries } from './ffmpeg-binaries.js';

let pathsSet = false;
/**
 * The binaries, chosen on first use and handed to fluent-ffmpeg. When none can be run this throws
 * a plain Error naming the binary and the fix: the installation's problem, so a batch stops.
 */
function binaries(): FfmpegBinaries {
  const b = ffmpegBinaries();
  if (!pathsSet) {
    ffmpeg.setFfmpegPath(b.ffmpeg.path);
    if (b.ffprobe) ffmpeg.setFfprobePath(b.ffprobe.path);
    pathsSet = true;
  }
  return b;
}

// VideoError lives in errors.ts (browser-safe); callers import it from here too.
export { VideoError };

export interface DecodedVideo {
  /** RGB24, [count, height, width, 3]. */
  frames: Uint8Array;
  count: number;
  height: number;
  width: number;
  fps: number;
}

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  frames: number;
}

export type VideoCodec = 'mjpeg' | 'h264' | 'ffv1';

/** ffmpeg must never hang a caller on bad input; these bound one call. */
const CODEC_TIMEOUT_S = 600;

/**
 * A probe's time limit, in seconds (`UNILVSEG_PROBE_TIMEOUT_S`, default 60). A probe that runs out
 * of it gets one more try with four times the limit before the video counts as bad: a niced job on
 * a loaded machine, or an event loop held up by other work, can miss the first limit on a perfectly
 * good file (a pool study here lost 2 of 2,000 videos that way).
 */
function probeTimeoutS(): number {
  const v = Number(process.env.UNILVSEG_PROBE_TIMEOUT_S ?? 60);
  return Number.isFinite(v) && v > 0 ? v : 60;
}
const PROBE_RETRY_FACTOR = 4;

/** A probe that ran out of time: worth one more try, unlike a probe that failed. */
class ProbeTimeout extends VideoError {}

function lastLine(text: string | null | undefined): string {
  const lines = (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines.length > 0 ? lines[lines.length - 1] : '';
}

function parseRate(rate: string | undefined): number {
  if (!rate) return NaN;
  const [num, den] = rate.split('/').map(Number);
  const v = den === undefined ? num : num / den;
  return Number.isFinite(v) && v > 0 ? v : NaN;
}

function requireFile(path: string): void {
  if (!existsSync(path)) throw new VideoError(path, 'no such file');
  if (!statSync(path).isFile()) throw new VideoError(path, 'not a regular file');
  if (statSync(path).size === 0) throw new VideoError(path, 'empty file, not a video');
  // ffmpeg guesses at DICOM files (a JPEG-baseline cine loop becomes an MJPEG stream with a
  // made-up frame count and rate), so they never reach it: openVideo reads them.
  if (isDicomFile(path))
    throw new VideoError(
      path,
      'a DICOM file, which ffmpeg would misread; open it with openVideo (src/data/open-video.ts)',
    );
}

/**
 * A failure to start ffmpeg or ffprobe at all is the installation's problem, not the video's: it
 * comes back as a plain Error (not a VideoError), so a batch stops instead of failing every video.
 */
function spawnFailure(err: Error): Error | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e.syscall?.startsWith('spawn') && !/^spawn /.test(e.message)) return undefined;
  return new Error(
    `${e.path ?? 'ffmpeg'} could not be started (${e.code ?? e.message}): the binary is missing or not executable by this user (see deploy/README.md, "ffmpeg and ffprobe")`,
    { cause: err },
  );
}

function ffprobeJson(path: string, options: string[], timeoutS: number): Promise<ffmpeg.FfprobeData> {
  return new Promise((resolve, reject) => {
    // fluent-ffmpeg's ffprobe has no timeout; a hard-coded `-rw_timeout` is meaningless for
    // files, so bound the call with our own timer instead.
    const timer = setTimeout(
      () => reject(new ProbeTimeout(path, `ffprobe did not finish within ${timeoutS}s`)),
      timeoutS * 1000,
    );
    ffmpeg.ffprobe(path, options, (err: Error | null, data: ffmpeg.FfprobeData) => {
      clearTimeout(timer);
      if (err)
        reject(spawnFailure(err) ?? new VideoError(path, `not a readable video (${lastLine(err.message)})`));
      else resolve(data);
    });
  });
}

/**
 * Size, frame rate and frame count from the container (counting frames if it does not say): with
 * ffprobe where there is one; else ffmpeg itself probes (an install pruned of ffprobe, such as the
 * GPU machine's bundle, docs/gpu.md, or a platform @ffprobe-installer lacks).
 */
export async function probeVideo(path: string): Promise<VideoInfo> {
  requireFile(path);
  const probe = binaries().ffprobe ? probeWithFfprobe : probeWithFfmpeg;
  const limit = probeTimeoutS();
  try {
    return await probe(path, limit);
  } catch (err) {
    if (!(err instanceof ProbeTimeout)) throw err;
    try {
      return await probe(path, limit * PROBE_RETRY_FACTOR);
    } catch (again) {
      if (!(again instanceof ProbeTimeout)) throw again;
      throw new VideoError(
        path,
        `${again.problem}, nor within ${limit}s before (a hung read, or a badly overloaded machine)`,
      );
    }
  }
}

export async function probeWithFfprobe(path: string, timeoutS = probeTimeoutS()): Promise<VideoInfo> {
  if (!binaries().ffprobe) throw new Error('no ffprobe in this install (ffmpeg probes: probeWithFfmpeg)');
  let data = await ffprobeJson(path, [], timeoutS);
  let stream = data.streams.find((s) => s.codec_type === 'video');
  if (!stream) throw new VideoError(path, 'not a video (no video stream)');
  const width = Number(stream.width);
  const height = Number(stream.height);
  if (!(width > 0 && height > 0)) throw new VideoError(path, 'video stream has no frame size');
  const fps = parseRate(stream.avg_frame_rate) || parseRate(stream.r_frame_rate);
  if (!Number.isFinite(fps)) throw new VideoError(path, 'video stream has no frame rate');
  let frames = Number(stream.nb_frames);
  if (!Number.isInteger(frames) || frames <= 0) {
    // Containers such as Matroska do not store a frame count: decode and count.
    data = await ffprobeJson(path, ['-count_frames', '-select_streams', 'v:0'], timeoutS);
    stream = data.streams.find((s) => s.codec_type === 'video');
    frames = Number(stream?.nb_read_frames);
  }
  if (!Number.isInteger(frames) || frames <= 0) throw new VideoError(path, 'video has zero frames');
  return { width, height, fps, frames };
}

/**
 * The same facts from ffmpeg alone: the first video stream's line ("Stream #0:0: Video: mjpeg
 * ..., 112x112, ..., 50 fps, 50 tbr, ...") for size and rate, and the frame count of a stream copy
 * to the null muxer (packets, not decoded frames: fast).
 */
export function probeWithFfmpeg(path: string, timeoutS = probeTimeoutS()): Promise<VideoInfo> {
  requireFile(path);
  const args = ['-hide_banner', '-nostdin', '-i', path, '-map', '0:v:0?', '-c', 'copy', '-f', 'null', '-'];
  return new Promise((resolve, reject) => {
    execFile(
      binaries().ffmpeg.path,
      args,
      { timeout: timeoutS * 1000, maxBuffer: 1 << 24 },
      (err, _out, stderr) => {
        if (err?.killed && err.signal === 'SIGTERM')
          return reject(new ProbeTimeout(path, `ffmpeg's probe did not finish within ${timeoutS}s`));
        const stream = /Stream #\d+:\d+[^:]*: Video: (.*)/.exec(stderr);
        if (!stream) {
          const why = err
            ? `not a readable video (${lastLine(stderr) || err.message})`
            : 'not a video (no video stream)';
          return reject(new VideoError(path, why));
        }
        const size = /(?:^|[ ,])(\d+)x(\d+)(?=[ ,[]|$)/.exec(stream[1]);
        const rate = /([\d.]+)(k?) fps/.exec(stream[1]) ?? /([\d.]+)(k?) tbr/.exec(stream[1]);
        const counted = [...stderr.matchAll(/frame=\s*(\d+)/g)].pop();
        const [width, height] = size ? [Number(size[1]), Number(size[2])] : [NaN, NaN];
        const fps = rate ? Number(rate[1]) * (rate[2] ? 1000 : 1) : NaN;
        const frames = counted ? Number(counted[1]) : NaN;
        if (!(width > 0 && height > 0)) return reject(new VideoError(path, 'video stream has no frame size'));
        if (!(fps > 0)) return reject(new VideoError(path, 'video stream has no frame rate'));
        if (!(frames > 0)) return reject(new VideoError(path, 'video has zero frames'));
        resolve({ width, height, fps, frames });
      },
    );
  });
}

/**
 * Decode every frame to RGB24. With `width`/`height` the frames are resized (area averaging
 * when shrinking, bilinear when enlarging) so foreign videos fit a model's input size.
 */
export async function decodeVideo(
  path: string,
  opts: { width?: number; height?: number } = {},
): Promise<DecodedVideo> {
  const info = await probeVideo(path);
  const width = opts.width ?? info.width;
  const height = opts.height ?? info.height;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new VideoError(path, `invalid output size ${width}x${height}`);
  }
  const frameBytes = width * height * 3;
  const chunks: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    emitClose: false, // a 'close' would make fluent-ffmpeg report "Output stream closed"
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      total += chunk.length;
      done();
    },
  });
  const outputOptions = ['-map', '0:v:0', '-pix_fmt', 'rgb24', '-vsync', 'passthrough'];
  if (width !== info.width || height !== info.height) {
    const shrinking = width * height < info.width * info.height;
    outputOptions.push('-vf', `scale=${width}:${height}:flags=${shrinking ? 'area' : 'bilinear'}`);
  }
  binaries();
  const command = ffmpeg(path, { timeout: CODEC_TIMEOUT_S })
    .inputOptions(['-nostdin', '-v', 'error'])
    .outputOptions(outputOptions)
    .format('rawvideo');
  await new Promise<void>((resolve, reject) => {
    let exited = false;
    let flushed = false;
    const maybeDone = () => exited && flushed && resolve();
    sink.on('finish', () => {
      flushed = true;
      maybeDone();
    });
    command.on('error', (err: Error, _out: string | null, stderr: string | null) => {
      reject(
        spawnFailure(err) ??
          new VideoError(path, `corrupt or unreadable video (${lastLine(stderr) || err.message})`),
      );
    });
    command.on('end', () => {
      exited = true;
      maybeDone();
    });
    command.pipe(sink, { end: true });
  });
  if (total === 0) throw new VideoError(path, 'video has zero frames');
  if (total % frameBytes !== 0) {
    throw new VideoError(path, `truncated: ${total % frameBytes} bytes of a partial frame at the end`);
  }
  const count = total / frameBytes;
  // Like upstream (OpenCV reads CAP_PROP_FRAME_COUNT frames and fails on a short read), a video
  // holding fewer frames than its header announces is an error rather than a silent short clip.
  if (count < info.frames) {
    throw new VideoError(path, `truncated: header says ${info.frames} frames, only ${count} decode`);
  }
  const frames = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    frames.set(c, at);
    at += c.length;
  }
  return { frames, count, height, width, fps: info.fps };
}

function defaultCodec(path: string): VideoCodec {
  const ext = extname(path).toLowerCase();
  if (ext === '.mp4' || ext === '.mov') return 'h264';
  if (ext === '.mkv' || ext === '.nut') return 'ffv1';
  return 'mjpeg';
}

let x264Available: Promise<boolean> | undefined;
function hasLibx264(): Promise<boolean> {
  binaries();
  x264Available ??= new Promise((resolve) => {
    ffmpeg.getAvailableEncoders((err, encoders) => resolve(!err && 'libx264' in encoders));
  });
  return x264Available;
}

export async function codecOptions(codec: VideoCodec): Promise<string[]> {
  switch (codec) {
    case 'mjpeg':
      // -q:v 2 is near-transparent; full-range yuvj420p is what MJPEG AVI readers expect.
      return ['-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj420p'];
    case 'ffv1':
      // Planar RGB keeps the round trip bit-exact (no colour-space conversion).
      return ['-c:v', 'ffv1', '-pix_fmt', 'gbrp'];
    case 'h264': {
      // yuv420p needs even sizes: pad odd ones with one black row/column.
      const pad = ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'];
      if (await hasLibx264()) {
        return ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', ...pad];
      }
      return ['-c:v', 'mpeg4', '-q:v', '2', '-pix_fmt', 'yuv420p', ...pad];
    }
  }
}

/**
 * Encode RGB24 frames [F, H, W, 3] into `path`; the container follows the extension and the
 * codec defaults to MJPEG for .avi (like EchoNet), H.264 for .mp4, FFV1 for .mkv. The file
 * appears atomically: ffmpeg writes a temporary name with the same extension, then it is renamed.
 */
export async function encodeVideo(
  path: string,
  frames: Uint8Array,
  opts: { width: number; height: number; fps: number; codec?: VideoCodec },
): Promise<void> {
  const { width, height, fps } = opts;
  const frameBytes = width * height * 3;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new VideoError(path, `invalid frame size ${width}x${height}`);
  }
  if (!(fps > 0)) throw new VideoError(path, `invalid frame rate ${fps}`);
  if (frames.length === 0 || frames.length % frameBytes !== 0) {
    throw new VideoError(
      path,
      `frame buffer of ${frames.length} bytes is not a whole number of ${width}x${height} RGB frames`,
    );
  }
  const codec = opts.codec ?? defaultCodec(path);
  binaries();
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(
    dirname(path),
    `.${basename(path, extname(path))}.${process.pid}.${Date.now()}.tmp${extname(path)}`,
  );
  // Feed the buffer in frame-sized chunks so stdin back-pressure is respected.
  const source = Readable.from(
    (function* () {
      for (let at = 0; at < frames.length; at += frameBytes)
        yield Buffer.from(frames.buffer, frames.byteOffset + at, frameBytes);
    })(),
  );
  const command = ffmpeg(source, { timeout: CODEC_TIMEOUT_S })
    .inputFormat('rawvideo')
    .inputOptions(['-v', 'error', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps)])
    .outputOptions([...(await codecOptions(codec)), '-an', '-y'])
    .output(tmp);
  await runIntoPlace(command, tmp, path, (why) => new VideoError(path, `ffmpeg could not encode (${why})`));
}

/**
 * Run an ffmpeg command writing `tmp`, then rename it to `target` (readers never see a partial
 * file); on failure the temporary file is removed and `fail(ffmpeg's last message)` thrown.
 */
async function runIntoPlace(
  command: ffmpeg.FfmpegCommand,
  tmp: string,
  target: string,
  fail: (why: string) => Error,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      command.on('error', (err: Error, _out: string | null, stderr: string | null) =>
        reject(spawnFailure(err) ?? fail(lastLine(stderr) || err.message)),
      );
      command.on('end', () => resolve());
      command.run();
    });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export type BrowserFormat = 'mp4' | 'webm';

/**
 * Re-encode `src` (any video ffmpeg reads, e.g. EchoNet's MJPEG AVI) into `dst` in a format
 * browsers play, same frames and timestamps, no audio: WebM with lossless VP9 (the browser viewer
 * then segments exactly the pixels ffmpeg decodes from the source) or H.264 MP4 at near-transparent
 * quality for browsers without VP9. Full-range YUV as MJPEG stores it, so grey levels survive
 * unchanged. No B-frames and a short keyframe interval keep frame-accurate seeking cheap. Written
 * to a temporary name and renamed, like encodeVideo.
 */
export async function transcodeVideo(src: string, dst: string, format: BrowserFormat): Promise<void> {
  requireFile(src);
  binaries();
  const codec =
    format === 'mp4'
      ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '12', '-bf', '0', '-movflags', '+faststart']
      : ['-c:v', 'libvpx-vp9', '-lossless', '1', '-deadline', 'realtime', '-cpu-used', '8'];
  mkdirSync(dirname(dst), { recursive: true });
  const tmp = join(dirname(dst), `.${basename(dst)}.${process.pid}.${Date.now()}.tmp.${format}`);
  const command = ffmpeg(src, { timeout: CODEC_TIMEOUT_S })
    .inputOptions(['-nostdin', '-v', 'error'])
    .outputOptions([
      '-map',
      '0:v:0',
      ...codec,
      '-g',
      '10',
      // 4:2:0 needs even sizes: pad odd ones with one black row/column.
      '-vf',
      'pad=ceil(iw/2)*2:ceil(ih/2)*2,scale=out_range=pc,format=yuv420p',
      // Tagged fully (BT.601 matrix as JPEG, sRGB transfer and primaries) so browsers convert to RGB
      // exactly as ffmpeg does; with the tags missing Chrome shifts grey levels by several units.
      '-color_range',
      'pc',
      '-colorspace',
      'smpte170m',
      '-color_primaries',
      'bt709',
      '-color_trc',
      'iec61966-2-1',
      '-vsync',
      'passthrough',
      '-an',
      '-y',
    ])
    .output(tmp);
  await runIntoPlace(
    command,
    tmp,
    dst,
    (why) => new VideoError(src, `ffmpeg could not transcode to ${format} (${why})`),
  );
}
