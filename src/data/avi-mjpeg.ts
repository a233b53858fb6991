/**
 * Motion-JPEG AVI files (EchoNet-Dynamic's format) decoded without ffmpeg: the RIFF structure gives
 * the frame rate and one JPEG per frame, jpeg-js decodes each. Browsers do not play MJPEG AVI, so
 * the viewer uses this for a dropped or statically hosted AVI; segment-video keeps ffmpeg (every
 * codec, and the reference the viewer's results are compared with). No Node-only imports.
 * Layout facts: AVI RIFF ('hdrl' with 'avih' and one 'strl' per stream, 'movi' with the frame
 * chunks '##dc'/'##db' of stream ##), OpenDML continues 'movi' in further 'RIFF AVIX' chunks.
 */
import jpeg from 'jpeg-js';
import { VideoError } from './errors.js';

export interface MjpegAvi {
  /** RGB24 [count, height, width, 3]. */
  frames: Uint8Array;
  count: number;
  height: number;
  width: number;
  fps: number;
}

interface Chunk {
  id: string;
  /** Offset of the chunk's data. */
  at: number;
  /** Bytes of data present: the declared size, or what is left of a chunk the file cuts short. */
  size: number;
  cut: boolean;
}

const fourcc = (b: Uint8Array, at: number): string =>
  String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/** Codec tags of AVI streams whose frames are plain JPEG images. */
const MJPEG_TAGS = new Set(['MJPG', 'mjpg', 'AVRn', 'dmb1', 'jpeg', 'JPEG']);

/** The marker segments of a JPEG up to its first scan (SOS): [marker, offset of its 0xFF]. */
function segmentsBeforeScan(j: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let at = 2; at + 4 <= j.length && j[at] === 0xff;) {
    const marker = j[at + 1];
    out.push([marker, at]);
    if (marker === 0xda) break;
    at += 2 + ((j[at + 2] << 8) | j[at + 3]);
  }
  return out;
}

let standardTables: Uint8Array | undefined;

/**
 * The DHT segment of JPEG's standard Huffman tables (ITU T.81 Annex K), which a baseline encoder
 * with default tables writes: taken from jpeg-js's encoder output for a tiny image, so the table
 * bytes are exactly the encoder's rather than a copy typed here.
 */
function standardHuffmanSegment(): Uint8Array {
  if (!standardTables) {
    const j = jpeg.encode({ data: new Uint8Array(8 * 8 * 4), width: 8, height: 8 }, 90).data;
    const dht = segmentsBeforeScan(j).filter(([m]) => m === 0xc4);
    standardTables = Uint8Array.from(
      dht.flatMap(([, at]) => Array.from(j.subarray(at, at + 2 + ((j[at + 2] << 8) | j[at + 3])))),
    );
  }
  return standardTables;
}

/**
 * Many Motion-JPEG writers (capture cards, the AVI1 convention) leave the Huffman tables out of
 * every frame because they are the standard ones; decoders insert those. Returns the JPEG with
 * the standard tables before its scan when it has none, else the JPEG itself.
 */
export function withHuffmanTables(j: Uint8Array): Uint8Array {
  const segments = segmentsBeforeScan(j);
  const sos = segments.find(([m]) => m === 0xda);
  if (!sos || segments.some(([m]) => m === 0xc4)) return j;
  const dht = standardHuffmanSegment();
  const out = new Uint8Array(j.length + dht.length);
  out.set(j.subarray(0, sos[1]));
  out.set(dht, sos[1]);
  out.set(j.subarray(sos[1]), sos[1] + dht.length);
  return out;
}

/** Whether `bytes` start as an AVI file ("RIFF" ... "AVI "). */
export function hasAviMarker(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourcc(bytes, 0) === 'RIFF' && fourcc(bytes, 8) === 'AVI ';
}

/**
 * The chunks in [start, end); the last may be cut short by the end of the file (a truncated file
 * still yields its complete frames' container lists, and the cut frame is reported).
 */
function chunks(b: Uint8Array, dv: DataView, start: number, end: number): Chunk[] {
  const out: Chunk[] = [];
  for (let at = start; at + 8 <= end;) {
    const size = dv.getUint32(at + 4, true);
    const cut = at + 8 + size > b.length;
    out.push({ id: fourcc(b, at), at: at + 8, size: cut ? b.length - at - 8 : size, cut });
    if (cut) break;
    at += 8 + size + (size & 1); // chunks are padded to even sizes
  }
  return out;
}

interface VideoStream {
  index: number;
  handler: string;
  compression: string;
  fps: number;
}

function videoStream(name: string, b: Uint8Array, dv: DataView, hdrl: Chunk): VideoStream {
  let index = 0;
  let microSecPerFrame = 0;
  for (const c of chunks(b, dv, hdrl.at + 4, hdrl.at + hdrl.size)) {
    if (c.id === 'avih' && c.size >= 4) microSecPerFrame = dv.getUint32(c.at, true);
    if (c.id !== 'LIST' || fourcc(b, c.at) !== 'strl') continue;
    const parts = chunks(b, dv, c.at + 4, c.at + c.size);
    const strh = parts.find((p) => p.id === 'strh' && p.size >= 28);
    const strf = parts.find((p) => p.id === 'strf' && p.size >= 20);
    if (strh && fourcc(b, strh.at) === 'vids') {
      const scale = dv.getUint32(strh.at + 20, true);
      const rate = dv.getUint32(strh.at + 24, true);
      const fps = scale > 0 && rate > 0 ? rate / scale : microSecPerFrame > 0 ? 1e6 / microSecPerFrame : NaN;
      if (!(fps > 0)) throw new VideoError(name, 'AVI video stream states no frame rate');
      return {
        index,
        handler: fourcc(b, strh.at + 4),
        compression: strf ? fourcc(b, strf.at + 16) : '',
        fps,
      };
    }
    index++;
  }
  throw new VideoError(name, 'AVI file without a video stream');
}

/** The video stream's frame chunks in file order: 'movi' lists of the RIFF AVI and any RIFF AVIX. */
function frameChunks(name: string, b: Uint8Array, dv: DataView, stream: number): Chunk[] {
  const tags = new Set([`${String(stream).padStart(2, '0')}dc`, `${String(stream).padStart(2, '0')}db`]);
  const frames: Chunk[] = [];
  const walk = (list: Chunk[]) => {
    for (const c of list) {
      if (c.id === 'LIST' && c.size >= 4 && fourcc(b, c.at) === 'rec ')
        walk(chunks(b, dv, c.at + 4, c.at + c.size));
      else if (tags.has(c.id)) {
        if (c.cut) throw new VideoError(name, `truncated AVI: frame ${frames.length} is cut short`);
        frames.push(c);
      }
    }
  };
  for (const riff of chunks(b, dv, 0, b.length)) {
    if (riff.id !== 'RIFF' || riff.size < 4) continue;
    for (const c of chunks(b, dv, riff.at + 4, riff.at + riff.size))
      if (c.id === 'LIST' && c.size >= 4 && fourcc(b, c.at) === 'movi')
        walk(chunks(b, dv, c.at + 4, c.at + c.size));
  }
  return frames;
}

/**
 * Decodes a Motion-JPEG AVI's bytes (`name` names it in messages) to RGB frames at its own size.
 * Refuses, naming the file: non-AVI content, another codec (ffmpeg, e.g. through `unilvseg
 * serve`, reads those), a truncated file, a corrupt frame, frames of differing sizes. A
 * zero-length frame chunk (an AVI writer's "repeat the previous frame") repeats the previous frame.
 * `onFrame` reports each decoded frame.
 */
export function decodeMjpegAvi(
  name: string,
  bytes: Uint8Array,
  onFrame?: (done: number, total: number) => void,
): MjpegAvi {
  if (!hasAviMarker(bytes)) throw new VideoError(name, 'not an AVI file (no "RIFF....AVI " header)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riff = chunks(bytes, dv, 0, bytes.length)[0];
  const hdrl = chunks(bytes, dv, 12, riff.at + riff.size).find(
    (c) => c.id === 'LIST' && c.size >= 4 && fourcc(bytes, c.at) === 'hdrl',
  );
  if (!hdrl) throw new VideoError(name, 'AVI file without its header list (hdrl): truncated or corrupt');
  const stream = videoStream(name, bytes, dv, hdrl);
  if (!MJPEG_TAGS.has(stream.handler) && !MJPEG_TAGS.has(stream.compression))
    throw new VideoError(
      name,
      `AVI video codec "${stream.compression || stream.handler}" is not Motion JPEG; the page decodes only MJPEG AVI (open it through \`unilvseg serve\`, which transcodes any AVI)`,
    );
  const chunkList = frameChunks(name, bytes, dv, stream.index);
  if (!chunkList.length) throw new VideoError(name, 'AVI file holds no video frames');
  let width = 0;
  let height = 0;
  const planes: Uint8Array[] = [];
  chunkList.forEach((c, k) => {
    if (c.size === 0) {
      if (!planes.length) throw new VideoError(name, 'AVI starts with an empty frame');
      planes.push(planes[planes.length - 1]);
      onFrame?.(k + 1, chunkList.length);
      return;
    }
    let image: { width: number; height: number; data: Uint8Array };
    try {
      image = jpeg.decode(withHuffmanTables(bytes.subarray(c.at, c.at + c.size)), {
        useTArray: true,
        formatAsRGBA: false,
        maxResolutionInMP: 100,
        maxMemoryUsageInMB: 1024,
      });
    } catch (e) {
      throw new VideoError(
        name,
        `corrupt JPEG in frame ${k} (${e instanceof Error ? e.message : String(e)})`,
      );
    }
    if (!planes.length) [width, height] = [image.width, image.height];
    else if (image.width !== width || image.height !== height)
      throw new VideoError(name, `frame ${k} is ${image.width}x${image.height}, frame 0 ${width}x${height}`);
    planes.push(image.data);
    onFrame?.(k + 1, chunkList.length);
  });
  const plane = width * height * 3;
  const frames = new Uint8Array(planes.length * plane);
  planes.forEach((p, k) => frames.set(p, k * plane));
  return { frames, count: planes.length, height, width, fps: stream.fps };
}
