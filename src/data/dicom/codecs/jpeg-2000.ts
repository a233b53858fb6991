/**
 * JPEG 2000 frames (reversible and irreversible) decoded by OpenJPEG compiled to WebAssembly. A
 * codestream with a multi-component transform (YBR_RCT, YBR_ICT) comes out as RGB.
 */
import type { OpenJpegModule } from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import type { DecodedFrame, PixelFormat } from '../pixels.js';
import { emscriptenMessage, emscriptenOptions, once } from './wasm.js';
import { codecSamples } from './samples.js';

const openjpeg = once(async (): Promise<OpenJpegModule> => {
  const { default: factory } = await import('@cornerstonejs/codec-openjpeg/decodewasmjs');
  return factory(emscriptenOptions());
});

export async function loadJpeg2000Decoder(): Promise<(data: Uint8Array, f: PixelFormat) => DecodedFrame> {
  const m = await openjpeg();
  return (data, f) => {
    const decoder = new m.J2KDecoder();
    try {
      decoder.getEncodedBuffer(data.length).set(data);
      try {
        decoder.decode();
      } catch (e) {
        throw new Error(emscriptenMessage(e, m), { cause: e });
      }
      const info = decoder.getFrameInfo();
      return {
        values: codecSamples(decoder.getDecodedBuffer(), info, f),
        ycbcr: f.photometric === 'YBR_FULL',
      };
    } finally {
      decoder.delete();
    }
  };
}
