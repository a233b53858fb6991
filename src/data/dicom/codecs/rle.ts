/**
 * DICOM RLE Lossless (PS3.5 Annex G): each frame is one fragment holding a 64-byte header (the
 * number of segments, then up to 15 segment offsets, little-endian 32-bit) and the segments,
 * each one byte plane PackBits-coded: for a 16-bit sample the high bytes' plane comes first, and
 * the planes of sample 1 (red, or Y) come before those of samples 2 and 3.
 */
import { interleave, type DecodedFrame, type PixelFormat } from '../pixels.js';

/** PackBits: a control byte n >= 0 copies the next n + 1 bytes; -127..-1 repeats the next byte 1 - n times. */
function unpackBits(src: Uint8Array, out: Uint8Array): number {
  let i = 0;
  let o = 0;
  while (i < src.length && o < out.length) {
    const n = src[i++];
    if (n < 128) {
      const end = Math.min(i + n + 1, src.length);
      const take = Math.min(end - i, out.length - o);
      out.set(src.subarray(i, i + take), o);
      o += take;
      i = end;
    } else if (n > 128) {
      const run = Math.min(257 - n, out.length - o);
      out.fill(src[i++], o, o + run);
      o += run;
    } // 128 (-128) is a no-op
  }
  return o;
}

export function decodeRleFrame(data: Uint8Array, f: PixelFormat): DecodedFrame {
  const n = f.rows * f.columns;
  const bytes = f.bitsAllocated / 8;
  const need = f.samples * bytes;
  if (data.length < 64) throw new Error('RLE fragment shorter than its 64-byte header');
  const view = new DataView(data.buffer, data.byteOffset, 64);
  const segments = view.getUint32(0, true);
  if (segments !== need)
    throw new Error(
      `RLE frame has ${segments} segments; ${f.samples} samples of ${f.bitsAllocated} bits need ${need}`,
    );
  const offsets = Array.from({ length: segments }, (_, s) => view.getUint32(4 + 4 * s, true));
  const planes = new Uint8Array(segments * n);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s];
    const end = s + 1 < segments ? offsets[s + 1] : data.length;
    if (start < 64 || end > data.length || end < start)
      throw new Error(`RLE segment ${s + 1} lies outside the frame`);
    const got = unpackBits(data.subarray(start, end), planes.subarray(s * n, (s + 1) * n));
    if (got < n) throw new Error(`RLE segment ${s + 1} holds ${got} bytes, ${n} expected (cut short)`);
  }
  let values: Uint8Array | Uint16Array;
  if (bytes === 1) values = planes;
  else {
    values = new Uint16Array(f.samples * n);
    for (let s = 0; s < f.samples; s++) {
      const hi = planes.subarray(2 * s * n, (2 * s + 1) * n);
      const lo = planes.subarray((2 * s + 1) * n, (2 * s + 2) * n);
      for (let i = 0; i < n; i++) values[s * n + i] = (hi[i] << 8) | lo[i];
    }
  }
  return {
    values: f.samples === 3 ? interleave(values, 3, n) : values,
    ycbcr: f.photometric === 'YBR_FULL',
  };
}
