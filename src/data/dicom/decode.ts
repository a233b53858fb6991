/**
 * Multi-frame ultrasound DICOM bytes to RGB24 frames, never by ffmpeg (which would take a JPEG
 * file for an MJPEG stream with a guessed frame count and rate). dicom-parser reads the data set;
 * frames are native or decoded by codecs/ (RLE here; jpeg-js, jpeg-lossless-decoder-js, and the
 * CharLS and OpenJPEG WebAssembly builds, each loaded when a file first needs it); pixels.ts turns
 * samples into RGB. No Node-only imports: segment-video (read.ts) and the browser viewer's
 * decoding worker both run this. docs/dicom.md lists what is read.
 */
import { loadFrameDecoder, type FrameDecoder } from './codecs/index.js';
import { UnsupportedJpegError } from './codecs/jpeg.js';
import { encapsulatedFrames, nativeFrames } from './frames.js';
import { cineHeader, DicomError, parserMessage, str, type CineHeader } from './header.js';
import { frameToRgb, storedValues, type DecodedFrame, type Photometric } from './pixels.js';
import { dicomPixelSpacing, ultrasoundRegions, type FrameRate, type PixelSpacing } from './regions.js';
import { conversionHint, transferSyntaxName } from './syntax.js';

export { DicomError, hasDicomMarker, hasDicomName, NOT_DICOM_PART10 } from './header.js';

export interface DicomInfo {
  transferSyntax: string;
  transferSyntaxName: string;
  photometric: Photometric;
  /** Bits stored per sample (8 for most ultrasound; more are mapped to 8, see docs/dicom.md). */
  bitsStored: number;
  modality: string | null;
  sopClass: string | null;
  manufacturer: string | null;
  fpsFrom: FrameRate['from'];
  /** Ultrasound regions (pixel bounds inclusive), as the scanner declared them. */
  regions: { x0: number; y0: number; x1: number; y1: number; spatialFormat: number; dataType: number }[];
}

export interface DicomVideo {
  /** RGB24 [count, height, width, 3]. */
  frames: Uint8Array;
  count: number;
  height: number;
  width: number;
  fps: number;
  spacing: PixelSpacing | null;
  dicom: DicomInfo;
}

/** Size, frame count, frame rate and pixel size from the header alone (no pixel decoding). */
export function probeDicomVideo(
  path: string,
  bytes: Uint8Array,
): {
  width: number;
  height: number;
  frames: number;
  fps: number;
  fpsFrom: FrameRate['from'];
  spacing: PixelSpacing | null;
} {
  const h = cineHeader(path, bytes);
  return {
    width: h.format.columns,
    height: h.format.rows,
    frames: h.count,
    fps: h.rate.fps,
    fpsFrom: h.rate.from,
    spacing: dicomPixelSpacing(h.ds),
  };
}

/** A JPEG-family or JPEG 2000 codestream ends with FF D9 (maybe followed by padding); one without was cut short. */
function endsWithEoi(data: Uint8Array): boolean {
  for (let i = data.length - 2; i >= Math.max(0, data.length - 4); i--)
    if (data[i] === 0xff && data[i + 1] === 0xd9) return true;
  return false;
}

/** The frames of a checked file, decoded one at a time. */
export interface DicomFrames {
  header: CineHeader;
  /** Frame k's samples, pixel-interleaved, as the codec gives them. */
  frame(k: number): DecodedFrame;
  /** Frame k's stored values (masked to BitsStored, sign-extended): for comparing decoders. */
  storedValues(k: number): Int32Array;
}

/**
 * Checks the header and loads the decoder the file's transfer syntax needs. Errors as
 * decodeDicomVideo's.
 */
export async function openDicomFrames(path: string, bytes: Uint8Array): Promise<DicomFrames> {
  const header = cineHeader(path, bytes);
  const { ds, pixel, count, codec, syntax, format } = header;
  const name = transferSyntaxName(syntax);
  let frame: (k: number) => DecodedFrame;
  if (codec === 'native') frame = nativeFrames(path, header);
  else {
    const bytesOf = encapsulatedFrames(path, ds, pixel, count, codec);
    let decoder: FrameDecoder;
    try {
      decoder = await loadFrameDecoder(codec);
    } catch (e) {
      throw new DicomError(
        path,
        `cannot load the ${name} decoder (${(e as Error).message})${conversionHint(syntax)}`,
      );
    }
    frame = (k) => {
      let data: Uint8Array;
      try {
        data = bytesOf(k);
      } catch (e) {
        throw new DicomError(path, `cannot read ${name} frame ${k} (${parserMessage(e)})`);
      }
      const codestream = codec !== 'rle' && !(codec === 'jpeg-2000' && data[0] === 0);
      if (codestream && !endsWithEoi(data))
        throw new DicomError(
          path,
          `${name} frame ${k} ends without an end-of-image marker: truncated or corrupt`,
        );
      try {
        return decoder(data, format);
      } catch (e) {
        const reason = parserMessage(e);
        if (e instanceof UnsupportedJpegError)
          throw new DicomError(path, `${name}: ${reason}${e.convertible ? conversionHint(syntax) : ''}`);
        throw new DicomError(
          path,
          `corrupt or unsupported ${name} frame ${k} (${reason})${conversionHint(syntax)}`,
        );
      }
    };
  }
  return { header, frame, storedValues: (k) => storedValues(frame(k).values, format) };
}

/**
 * Decodes a multi-frame ultrasound DICOM file's bytes (`path` names it in messages). Refuses,
 * with one error naming the file and the reason: non-DICOM content, corrupt or truncated data,
 * transfer syntaxes and pixel formats not read here (with a command that converts the file,
 * where one is known), single-frame images, non-ultrasound modalities, a missing frame rate.
 * `onFrame` reports each decoded frame (the viewer's progress bar).
 */
export async function decodeDicomVideo(
  path: string,
  bytes: Uint8Array,
  onFrame?: (done: number, total: number) => void,
): Promise<DicomVideo> {
  const { header, frame } = await openDicomFrames(path, bytes);
  const { ds, count, format, syntax, rate } = header;
  const frameRgb = format.rows * format.columns * 3;
  const frames = new Uint8Array(count * frameRgb);
  for (let k = 0; k < count; k++) {
    const decoded = frame(k);
    try {
      frameToRgb(decoded, format, frames.subarray(k * frameRgb, (k + 1) * frameRgb));
    } catch (e) {
      throw new DicomError(path, `frame ${k}: ${(e as Error).message}`);
    }
    onFrame?.(k + 1, count);
  }
  return {
    frames,
    count,
    height: format.rows,
    width: format.columns,
    fps: rate.fps,
    spacing: dicomPixelSpacing(ds),
    dicom: {
      transferSyntax: syntax,
      transferSyntaxName: transferSyntaxName(syntax),
      photometric: format.photometric,
      bitsStored: format.bitsStored,
      modality: header.modality,
      sopClass: header.sopClass,
      manufacturer: str(ds, 'x00080070'),
      fpsFrom: rate.from,
      regions: ultrasoundRegions(ds).map(({ spacing: _, ...r }) => r),
    },
  };
}
