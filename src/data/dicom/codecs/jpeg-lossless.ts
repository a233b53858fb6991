/** JPEG Lossless frames (process 14, any predictor) decoded by jpeg-lossless-decoder-js. */
import type { DecodedFrame, PixelFormat } from '../pixels.js';
import { jpegHeader } from './jpeg.js';

export async function loadJpegLosslessDecoder(): Promise<(data: Uint8Array, f: PixelFormat) => DecodedFrame> {
  const { Decoder } = await import('jpeg-lossless-decoder-js');
  return (data, f) => {
    const h = jpegHeader(data);
    if (h.process !== 3) throw new Error(`start-of-frame marker SOF${h.process} is not lossless JPEG (SOF3)`);
    if (h.components.length !== f.samples)
      throw new Error(
        `JPEG frame has ${h.components.length} components, the header says ${f.samples} samples`,
      );
    if (f.samples === 3 && h.precision > 8)
      throw new Error(`${h.precision}-bit colour lossless JPEG is not read`);
    // The decoder reads the whole ArrayBuffer it is given: hand it a copy of just the frame
    // (Buffer#slice would share Node's pool).
    const copy = new Uint8Array(data);
    const decoder = new Decoder();
    const values = decoder.decode(copy.buffer, 0, copy.length, h.precision > 8 ? 2 : 1);
    if (decoder.xDim !== f.columns || decoder.yDim !== f.rows)
      throw new Error(
        `JPEG frame is ${decoder.xDim}x${decoder.yDim}, the header says ${f.columns}x${f.rows}`,
      );
    const n = f.rows * f.columns * f.samples;
    if (values.length < n) throw new Error(`${values.length} samples decoded, ${n} expected`);
    return { values: values.subarray(0, n), ycbcr: f.photometric === 'YBR_FULL' };
  };
}
