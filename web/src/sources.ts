// Where <lv-segmenter>'s inputs come from: names and bytes of URLs, Files and buffers, and which
// reader decodes a video (DICOM and Motion-JPEG AVI by our own code, anything else by <video>).
import { hasAviMarker } from '../../src/data/avi-mjpeg.js';
import { hasDicomMarker, hasDicomName } from '../../src/data/dicom/decode.js';
import { decodeFrames, type DecodedFrames } from './decode.js';
import { readFileFrames, type FileFormat } from './file-readers.js';

export type SourceFormat = 'dicom' | 'mjpeg-avi' | 'video';
const SOURCE_FORMATS: readonly string[] = ['dicom', 'mjpeg-avi', 'video'];

/** The `format` attribute's value, or undefined (detect) when absent or unknown. */
export function parseSourceFormat(text: string | null): SourceFormat | undefined {
  return text && SOURCE_FORMATS.includes(text) ? (text as SourceFormat) : undefined;
}

/** The name messages and outputs use: the one given, a URL's last path segment, a File's name, or `fallback`. */
export function nameOf(
  src: string | Blob | ArrayBuffer,
  given: string | undefined,
  fallback: string,
): string {
  if (given) return given;
  if (typeof src === 'string')
    return decodeURIComponent(new URL(src, document.baseURI).pathname.split('/').pop() || src);
  if (src instanceof File) return src.name;
  return fallback;
}

/** The whole content of a URL (fetched), a Blob/File or a buffer; a failed fetch names the file and the status. */
export async function fileBytes(src: string | Blob | ArrayBuffer, name: string): Promise<Uint8Array> {
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (src instanceof Blob) return new Uint8Array(await src.arrayBuffer());
  const res = await fetch(src);
  if (!res.ok) throw new Error(`${name}: ${res.status} ${res.statusText || 'could not be fetched'}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** DICOM or Motion-JPEG AVI by name (a URL's content is not sniffed) or a File's first bytes; else video. */
async function sourceFormat(src: string | Blob, name: string): Promise<SourceFormat> {
  if (hasDicomName(name)) return 'dicom';
  if (typeof src === 'string') {
    const url = new URL(src, document.baseURI);
    return /\.avi$/i.test(url.pathname) && !url.searchParams.has('format') ? 'mjpeg-avi' : 'video';
  }
  const head = new Uint8Array(await src.slice(0, 132).arrayBuffer());
  return hasDicomMarker(head) ? 'dicom' : hasAviMarker(head) ? 'mjpeg-avi' : 'video';
}

export interface DecodeSourceOptions {
  /** Forces a reader; detected when absent. */
  format?: SourceFormat;
  /** Frame rate and count for the <video> reader, when known. */
  fps?: number;
  frames?: number;
  onProgress?: (done: number, total: number, text: string) => void;
}

/**
 * Frames of a DICOM file (segment-video's DICOM reader), of a Motion-JPEG AVI (our AVI reader;
 * browsers do not play it) or of any other video (<video> + canvas).
 */
export async function decodeSource(
  src: string | Blob,
  name: string,
  o: DecodeSourceOptions = {},
): Promise<DecodedFrames> {
  const format = o.format ?? (await sourceFormat(src, name));
  if (format !== 'video') {
    const what = format === 'dicom' ? 'DICOM' : 'AVI';
    o.onProgress?.(0, 1, `reading ${what} ${name}`);
    const bytes = await fileBytes(src, name);
    return readOffThread(format, bytes, name, (done, total) =>
      o.onProgress?.(done, total, `decoding ${what} frame ${done}/${total}`),
    );
  }
  const url = typeof src === 'string' ? src : URL.createObjectURL(src);
  try {
    return await decodeFrames(url, name, {
      fps: o.fps,
      frames: o.frames,
      onProgress: (done, total) => {
        if (done % 10 === 0 || done === total) o.onProgress?.(done, total, `decoding frame ${done}/${total}`);
      },
    });
  } finally {
    if (typeof src !== 'string') URL.revokeObjectURL(url);
  }
}

/**
 * readFileFrames in the decoding worker (decode-worker.js beside this bundle); in the page itself
 * where no worker starts (a host page whose policy forbids workers), with the same result.
 */
function readOffThread(
  format: FileFormat,
  bytes: Uint8Array,
  name: string,
  onFrame: (done: number, total: number) => void,
): Promise<DecodedFrames> {
  let worker: Worker;
  try {
    worker = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
  } catch {
    return readFileFrames(format, bytes, name, onFrame);
  }
  return new Promise<DecodedFrames>((resolve, reject) => {
    worker.onmessage = (
      e: MessageEvent<{ progress?: [number, number]; frames?: DecodedFrames; error?: string }>,
    ) => {
      const m = e.data;
      if (m.progress) return onFrame(...m.progress);
      worker.terminate();
      if (m.frames) resolve(m.frames);
      else reject(new Error(m.error));
    };
    // The worker script did not load or run: decode here instead.
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      readFileFrames(format, bytes, name, onFrame).then(resolve, reject);
    };
    worker.postMessage({ format, name, bytes });
  });
}
