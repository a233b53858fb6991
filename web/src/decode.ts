// Frames of a video in the browser: an HTML <video> element seeked to the middle of every frame and
// drawn on a canvas at the video's own size, giving the RGB [F, H, W, 3] layout segment-video
// decodes with ffmpeg. Browsers do not report a video's frame rate, so it is given (serve probes it with
// ffprobe) or measured from the timestamps of presented frames.
// DICOM files and Motion-JPEG AVIs do not go through <video>: our own readers decode their bytes
// (file-readers.ts, in a worker).
import type { DicomInfo } from '../../src/data/dicom/decode.js';
import type { PixelSpacing } from '../../src/data/dicom/regions.js';
import type { RgbVideo } from '../../src/infer/overlay.js';

export interface DecodedFrames {
  video: RgbVideo;
  /** The file as the browser sees it, for summary.json's `source` (segment-video's fields). */
  source: {
    width: number;
    height: number;
    frames: number;
    fps: number;
    format?: 'dicom';
    fpsFrom?: string;
    dicom?: DicomInfo;
  };
  /** mm per pixel from a DICOM file's ultrasound regions or PixelSpacing; null for videos. */
  spacing: PixelSpacing | null;
}

export interface DecodeOptions {
  /** Frames per second; measured when absent. */
  fps?: number;
  /** Frame count; duration x fps when absent. */
  frames?: number;
  onProgress?: (done: number, total: number) => void;
}

const MEDIA_ERRORS: Record<number, string> = {
  1: 'loading was aborted',
  2: 'a network error stopped the download',
  3: 'the file is corrupt or uses a codec this browser cannot decode',
  4: 'this browser cannot play this format (`unilvseg serve` transcodes any video ffmpeg reads; Motion-JPEG AVI and DICOM are read without it)',
};

function once(v: HTMLVideoElement, event: string, name: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`${name}: the video did not answer (${event}) in time`)),
      timeoutMs,
    );
    const onEvent = () => done();
    const onError = () => {
      const code = v.error?.code ?? 0;
      done(
        new Error(
          `${name}: ${MEDIA_ERRORS[code] ?? 'unreadable video'}${v.error?.message ? ` (${v.error.message})` : ''}`,
        ),
      );
    };
    function done(err?: Error) {
      clearTimeout(timer);
      v.removeEventListener(event, onEvent);
      v.removeEventListener('error', onError);
      if (err) reject(err);
      else resolve();
    }
    v.addEventListener(event, onEvent);
    v.addEventListener('error', onError);
  });
}

/**
 * Frame rate from the media timestamps of the frames presented during about a second of muted
 * playback. A display may skip frames but never splits one, so each step between two presented
 * frames is a whole number of frames: counted against the smallest step, summed, and divided by
 * the time spanned (timestamps carry millisecond rounding, so the span makes the precision).
 */
async function measureFps(v: HTMLVideoElement, name: string): Promise<number> {
  const fail = () => new Error(`${name}: could not measure the frame rate; give it (fps)`);
  if (!('requestVideoFrameCallback' in v)) throw fail();
  const times: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => (times.length >= 3 ? resolve() : reject(fail())), 10_000);
    const onFrame: VideoFrameRequestCallback = (_now, meta) => {
      times.push(meta.mediaTime);
      if (times.length >= 60 || meta.mediaTime - times[0] >= 1 || v.ended) {
        clearTimeout(timer);
        resolve();
      } else v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    v.play().catch(reject);
  });
  v.pause();
  const steps = times
    .slice(1)
    .map((t, i) => t - times[i])
    .filter((d) => d > 1e-4);
  if (steps.length === 0) throw fail();
  const one = Math.min(...steps);
  const frames = steps.reduce((n, d) => n + Math.round(d / one), 0);
  return frames / steps.reduce((a, d) => a + d, 0);
}

function seek(v: HTMLVideoElement, time: number, name: string): Promise<void> {
  const done = once(v, 'seeked', name);
  v.currentTime = time;
  return done;
}

/** Media time of the next frame the element presents, or undefined if none comes within `ms`. */
function nextPresentedFrame(v: HTMLVideoElement, ms: number): Promise<number | undefined> {
  if (!('requestVideoFrameCallback' in v)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      v.cancelVideoFrameCallback(handle);
      resolve(undefined);
    }, ms);
    const handle = v.requestVideoFrameCallback((_now, meta) => {
      clearTimeout(timer);
      resolve(meta.mediaTime);
    });
  });
}

/**
 * Seeks to frames and makes sure each is the frame presented. A 'seeked' event alone occasionally
 * leaves the previous picture in place for drawImage (seen under load), so the presented frame's
 * timestamp is read (requestVideoFrameCallback) and the seek repeated when it is another frame.
 * Seeking to the middle of a frame's display interval is robust to timestamp rounding (WebM
 * stores milliseconds).
 */
class FrameSeeker {
  /** Index of the frame on screen, when known. */
  private shown?: number;

  constructor(
    private readonly v: HTMLVideoElement,
    private readonly fps: number,
    private readonly name: string,
  ) {}

  private async seekTo(time: number): Promise<number | undefined> {
    const presented = nextPresentedFrame(this.v, 2000);
    await seek(this.v, time, this.name);
    const mediaTime = await presented;
    if (mediaTime !== undefined) this.shown = Math.round(mediaTime * this.fps);
    return mediaTime;
  }

  async frame(f: number): Promise<void> {
    if (!('requestVideoFrameCallback' in this.v))
      return void (await seek(this.v, (f + 0.5) / this.fps, this.name));
    for (let attempt = 0; attempt < 3; attempt++) {
      const mediaTime = await this.seekTo(Math.min((f + 0.5) / this.fps, this.v.duration));
      if (this.shown === f) return;
      // No new picture: fine only if the one on screen is frame f (the first frame after loading).
      if (mediaTime === undefined && this.shown === undefined && f === 0) return;
    }
    throw new Error(`${this.name}: seeking to frame ${f} shows frame ${this.shown ?? '?'} instead`);
  }

  /**
   * Frame count from the last frame's timestamp (seeking to the end), which is exact where
   * duration x fps is not: a container's duration may include the last frame's display time or
   * rounding.
   */
  async count(): Promise<number> {
    if ('requestVideoFrameCallback' in this.v) {
      const end = this.v.duration;
      let early: number | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt) await this.seekTo(0); // away and back, so that the end is presented anew
        const last = await this.seekTo(end);
        if (last === undefined) break;
        // The last frame starts within about a frame of the end. Under load a picture of the
        // playback that measured the frame rate can be presented after the seek began (seen in
        // CI: frame 58 of 109); it is earlier, so seek again. The same early time twice is a
        // video stream that really ends before the container does.
        if (end - last <= 2 / this.fps || last === early) return Math.round(last * this.fps) + 1;
        early = last;
      }
    }
    return Math.round(this.v.duration * this.fps);
  }
}

/** Decode every frame of `url` to RGB at its own size. */
export async function decodeFrames(url: string, name: string, o: DecodeOptions = {}): Promise<DecodedFrames> {
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.preload = 'auto';
  const loaded = once(v, 'loadeddata', name);
  v.src = url;
  try {
    await loaded;
    const fps = o.fps ?? (await measureFps(v, name));
    if (!(fps > 0 && Number.isFinite(fps))) throw new Error(`${name}: invalid frame rate ${fps}`);
    if (!Number.isFinite(v.duration)) throw new Error(`${name}: the video does not state its duration`);
    const seeker = new FrameSeeker(v, fps, name);
    const count = o.frames ?? (await seeker.count());
    if (!(count >= 1)) throw new Error(`${name}: video has no frames`);
    const { videoWidth: width, videoHeight: height } = v;
    if (!(width > 0 && height > 0)) throw new Error(`${name}: the video has no picture size`);
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const plane = width * height * 3;
    const frames = new Uint8Array(count * plane);
    for (let f = 0; f < count; f++) {
      await seeker.frame(f);
      ctx.drawImage(v, 0, 0);
      const rgba = ctx.getImageData(0, 0, width, height).data;
      const out = frames.subarray(f * plane);
      for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
        out[j] = rgba[i];
        out[j + 1] = rgba[i + 1];
        out[j + 2] = rgba[i + 2];
      }
      o.onProgress?.(f + 1, count);
    }
    return {
      video: { frames, count, height, width, fps },
      source: { width, height, frames: count, fps },
      spacing: null,
    };
  } finally {
    v.removeAttribute('src');
    v.load();
  }
}
