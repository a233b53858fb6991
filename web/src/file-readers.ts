// DICOM files and Motion-JPEG AVIs from their bytes, by segment-video's own readers: no DOM, so
// this runs in the decoding worker (decode-worker.ts) or, where a worker cannot start, in the page.
import { decodeMjpegAvi } from '../../src/data/avi-mjpeg.js';
import { decodeDicomVideo } from '../../src/data/dicom/decode.js';
import type { DecodedFrames } from './decode.js';

export type FileFormat = 'dicom' | 'mjpeg-avi';

/** `bytes` (the file `name`) as frames, reporting each decoded frame. */
export async function readFileFrames(
  format: FileFormat,
  bytes: Uint8Array,
  name: string,
  onFrame?: (done: number, total: number) => void,
): Promise<DecodedFrames> {
  if (format === 'dicom') {
    const d = await decodeDicomVideo(name, bytes, onFrame);
    const { frames, count, height, width, fps } = d;
    return {
      video: { frames, count, height, width, fps },
      source: {
        width,
        height,
        frames: count,
        fps,
        format: 'dicom',
        fpsFrom: d.dicom.fpsFrom,
        dicom: d.dicom,
      },
      spacing: d.spacing,
    };
  }
  const { frames, count, height, width, fps } = decodeMjpegAvi(name, bytes, onFrame);
  return {
    video: { frames, count, height, width, fps },
    source: { width, height, frames: count, fps },
    spacing: null,
  };
}
