/** JPEG-LS frames (lossless and near-lossless) decoded by CharLS compiled to WebAssembly. */
import type { CharLSModule } from '@cornerstonejs/codec-charls/decodewasmjs';
import { interleave, type DecodedFrame, type PixelFormat } from '../pixels.js';
import { decodeWith, emscriptenOptions, once } from './wasm.js';
import { codecSamples } from './samples.js';

const charls = once(async (): Promise<CharLSModule> => {
  const { default: factory } = await import('@cornerstonejs/codec-charls/decodewasmjs');
  return factory(emscriptenOptions());
});

export async function loadJpegLsDecoder(): Promise<(data: Uint8Array, f: PixelFormat) => DecodedFrame> {
  const m = await charls();
  return (data, f) =>
    decodeWith(m, new m.JpegLSDecoder(), data, (d) => {
      const values = codecSamples(d.getDecodedBuffer(), d.getFrameInfo(), f);
      const n = f.rows * f.columns;
      // Interleave mode 0 ("none") decodes to one plane per component.
      const pixelOrder = f.samples === 3 && d.getInterleaveMode() === 0 ? interleave(values, 3, n) : values;
      return { values: pixelOrder, ycbcr: f.photometric === 'YBR_FULL' };
    });
}
