/**
 * The decoder of each compressed syntax's frames, loaded when a file needs it (dynamic imports:
 * the browser bundle keeps each codec in a chunk of its own, fetched on first use).
 */
import type { DecodedFrame, PixelFormat } from '../pixels.js';
import type { PixelCodec } from '../syntax.js';

/** Decodes one frame's bytes; throws an Error with a short reason on bad or unsupported data. */
export type FrameDecoder = (data: Uint8Array, f: PixelFormat) => DecodedFrame;

export async function loadFrameDecoder(codec: Exclude<PixelCodec, 'native'>): Promise<FrameDecoder> {
  switch (codec) {
    case 'rle':
      return (await import('./rle.js')).decodeRleFrame;
    case 'jpeg':
      return (await import('./jpeg.js')).decodeJpegFrame;
    case 'jpeg-lossless':
      return (await import('./jpeg-lossless.js')).loadJpegLosslessDecoder();
    case 'jpeg-ls':
      return (await import('./jpeg-ls.js')).loadJpegLsDecoder();
    case 'jpeg-2000':
      return (await import('./jpeg-2000.js')).loadJpeg2000Decoder();
  }
}
