/**
 * JPEG 2000 frames (reversible and irreversible) decoded by OpenJPEG compiled to WebAssembly. A
 * codestream with a multi-component transform (YBR_RCT, YBR_ICT) comes out as RGB.
 */
import type { OpenJpegModule } from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import type { DecodedFrame, PixelFormat } from '../pixels.js';
import { decodeWith, emscriptenOptions, once } from './wasm.js';
import { codecSamples } from './samples.js';

const openjpeg = once(async (): Promise<OpenJpegModule> => {
  const { default: factory } = await import('@cornerstonejs/codec-openjpeg/decodewasmjs');
  return factory(emscriptenOptions());
});

export async function loadJpeg2000Decoder(): Promise<(data: Uint8Array, f: PixelFormat) => DecodedFrame> {
  const m = await openjpeg();
  return (data, f) =>
    decodeWith(m, new m.J2KDecoder(), data, (d) => ({
      values: codecSamples(d.getDecodedBuffer(), d.getFrameInfo(), f),
      ycbcr: f.photometric === 'YBR_FULL',
    }));
}
