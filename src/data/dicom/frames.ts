/**
 * Where each frame's bytes lie in the pixel data: native frames back to back (16-bit words and
 * big-endian OW byte order undone); encapsulated frames by the basic offset table, one fragment
 * per frame, or, when frames span several fragments and the table is empty, by the codec's
 * start-of-image marker at the head of a frame's first fragment.
 */
import type { DataSet, Element } from 'dicom-parser';
import { DicomError, type CineHeader } from './header.js';
import { expandYbr422, interleave, type DecodedFrame, type PixelFormat } from './pixels.js';
import type { PixelCodec } from './syntax.js';

/** Bytes one native frame takes. */
export function nativeFrameBytes(f: PixelFormat): number {
  const n = f.rows * f.columns;
  if (f.photometric === 'YBR_FULL_422') return 2 * n;
  return n * f.samples * (f.bitsAllocated / 8);
}

/** Whether a fragment starts a frame of `codec` (JPEG, JPEG-LS: SOI; JPEG 2000: SOC+SIZ or a JP2 signature). */
function startsFrame(codec: PixelCodec, b: Uint8Array): boolean {
  if (codec === 'jpeg-2000')
    return (
      (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51) ||
      (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0x0c && b[4] === 0x6a && b[5] === 0x50)
    );
  return b[0] === 0xff && b[1] === 0xd8;
}

/** Frame k's bytes of encapsulated pixel data (fragments concatenated where a frame spans several). */
export function encapsulatedFrames(
  path: string,
  ds: DataSet,
  pixel: Element,
  count: number,
  codec: PixelCodec,
): (k: number) => Uint8Array {
  const fragments = pixel.fragments ?? [];
  const bytesOf = (i: number) =>
    ds.byteArray.subarray(fragments[i].position, fragments[i].position + fragments[i].length);
  /** Index of the first fragment of each frame, then fragments.length. */
  let starts: number[] | null = null;
  const table = pixel.basicOffsetTable ?? [];
  if (table.length === count) {
    const byOffset = new Map(fragments.map((fr, i) => [fr.offset, i]));
    const found = table.map((o) => byOffset.get(o));
    if (found.every((i, k) => i !== undefined && (k === 0 || i > found[k - 1]!))) starts = found as number[];
  }
  if (!starts && fragments.length === count) starts = fragments.map((_, i) => i);
  if (!starts && codec !== 'rle') {
    const heads = fragments.map((_, i) => i).filter((i) => startsFrame(codec, bytesOf(i)));
    if (heads.length === count && heads[0] === 0) starts = heads;
  }
  if (!starts)
    throw new DicomError(
      path,
      `encapsulated pixel data holds ${fragments.length} fragments that do not split into the ${count} frames NumberOfFrames says` +
        (fragments.length < count ? ' (truncated?)' : ''),
    );
  const bounds = [...starts, fragments.length];
  return (k) => {
    const [a, b] = [bounds[k], bounds[k + 1]];
    if (b - a === 1) return bytesOf(a);
    const parts = Array.from({ length: b - a }, (_, i) => bytesOf(a + i));
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
}

/**
 * Native frame k as decoded samples. In explicit VR big endian, OW pixel data is a run of
 * big-endian 16-bit words even when the samples are 8-bit: neighbouring bytes trade places.
 */
export function nativeFrames(path: string, h: CineHeader): (k: number) => DecodedFrame {
  const f = h.format;
  const frameBytes = nativeFrameBytes(f);
  const need = h.count * frameBytes;
  const { pixel } = h;
  const buffer = h.ds.byteArray;
  const available = Math.min(pixel.length, buffer.length - pixel.dataOffset);
  if (available < need)
    throw new DicomError(
      path,
      `truncated pixel data: ${available} bytes, ${h.count} frames of ${f.columns}x${f.rows} ` +
        `${f.photometric} (${f.bitsAllocated}-bit) need ${need}`,
    );
  const n = f.rows * f.columns;
  return (k) => {
    const start = pixel.dataOffset + k * frameBytes;
    let bytes: Uint8Array = buffer.subarray(start, start + frameBytes);
    if (h.swapWords) {
      // Whole words from the element's start: a frame of odd length begins mid-word.
      const swapped = new Uint8Array(frameBytes);
      const base = k * frameBytes;
      for (let i = 0; i < frameBytes; i++) swapped[i] = buffer[pixel.dataOffset + ((base + i) ^ 1)];
      bytes = swapped;
    }
    let values: Uint8Array | Uint16Array;
    if (f.bitsAllocated === 8) values = bytes;
    else {
      values = new Uint16Array(frameBytes / 2);
      for (let i = 0; i < values.length; i++) values[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    }
    if (f.photometric === 'YBR_FULL_422')
      return { values: expandYbr422(values as Uint8Array, n), ycbcr: true };
    if (f.samples === 3 && f.planar === 1) values = interleave(values, 3, n);
    return { values, ycbcr: f.photometric === 'YBR_FULL' };
  };
}
