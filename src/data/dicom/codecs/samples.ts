/** A codec's decoded buffer as sample values, checked against what the DICOM header says. */
import type { PixelFormat, SampleValues } from '../pixels.js';

interface CodecFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/**
 * Copies the codec's output (a view of its module's memory, reused by the next call; CharLS hands
 * a Uint8ClampedArray) into values: bytes for up to 8 bits per sample, 16-bit words above (the
 * codec writes them little-endian).
 */
export function codecSamples(decoded: ArrayBufferView, info: CodecFrameInfo, f: PixelFormat): SampleValues {
  const buffer = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  if (info.width !== f.columns || info.height !== f.rows)
    throw new Error(`frame is ${info.width}x${info.height}, the header says ${f.columns}x${f.rows}`);
  if (info.componentCount !== f.samples)
    throw new Error(`frame has ${info.componentCount} components, the header says ${f.samples} samples`);
  if (info.bitsPerSample > 16) throw new Error(`${info.bitsPerSample} bits per sample (at most 16 are read)`);
  const count = f.rows * f.columns * f.samples;
  if (info.bitsPerSample <= 8) {
    if (buffer.length < count) throw new Error(`${buffer.length} bytes decoded, ${count} expected`);
    return buffer.slice(0, count);
  }
  if (buffer.length < 2 * count) throw new Error(`${buffer.length} bytes decoded, ${2 * count} expected`);
  const bytes = buffer.slice(0, 2 * count); // a copy, aligned for 16-bit views
  return info.isSigned ? new Int16Array(bytes.buffer) : new Uint16Array(bytes.buffer);
}
