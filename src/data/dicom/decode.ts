/**
 * Multi-frame ultrasound DICOM bytes to RGB24 frames, read by dicom-parser (the data set),
 * jpeg-js (JPEG baseline fragments) and fflate (the deflated transfer syntax); never by ffmpeg,
 * which would take a JPEG-baseline file for an MJPEG stream with a guessed frame count and rate.
 * No Node-only imports: segment-video (read.ts) and the browser viewer both run this.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { inflateSync } from 'fflate';
import { VideoError } from '../errors.js';
import {
  jpegFrameToRgb,
  nativeFrameBytes,
  nativeFrameToRgb,
  PHOTOMETRICS,
  type Photometric,
  type PixelLayout,
} from './pixels.js';
import {
  dicomFrameRate,
  dicomPixelSpacing,
  ultrasoundRegions,
  type FrameRate,
  type PixelSpacing,
} from './regions.js';
import {
  JPEG_BASELINE,
  NATIVE_SYNTAXES,
  supportedSyntaxes,
  transferSyntaxName,
  ULTRASOUND_SOP_CLASSES,
} from './syntax.js';

/** A DICOM file that cannot be read as an ultrasound cine loop; the message names file and reason. */
export class DicomError extends VideoError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = 'DicomError';
  }
}

export interface DicomInfo {
  transferSyntax: string;
  transferSyntaxName: string;
  photometric: Photometric;
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

/** dicom-parser throws strings and {exception} objects as well as Errors. */
function parserMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return String((e as { exception: unknown }).exception);
  return String(e);
}

function parse(path: string, bytes: Uint8Array): DataSet {
  try {
    return dicomParser.parseDicom(bytes, {
      // Deflated transfer syntax: dicom-parser hands us the raw deflate stream after the meta header.
      inflater: (arr: Uint8Array, position: number) => {
        const inflated = inflateSync(arr.subarray(position));
        const out = new Uint8Array(position + inflated.length);
        out.set(arr.subarray(0, position));
        out.set(inflated, position);
        return out;
      },
    });
  } catch (e) {
    throw new DicomError(path, `corrupt or truncated DICOM file (${parserMessage(e)})`);
  }
}

const str = (ds: DataSet, tag: string): string | null => ds.string(tag)?.trim() || null;

function requireInt(path: string, ds: DataSet, tag: string, name: string): number {
  const v = ds.uint16(tag);
  if (v === undefined || !(v > 0)) throw new DicomError(path, `missing or zero ${name} (${tag.slice(1)})`);
  return v;
}

/** Frame `k`'s JPEG bytes: by the basic offset table, one fragment per frame, or by scanning for JPEG markers. */
function jpegFrames(path: string, ds: DataSet, pixel: Element, count: number): (k: number) => Uint8Array {
  const fragments = pixel.fragments ?? [];
  if (fragments.length < count)
    throw new DicomError(
      path,
      `encapsulated pixel data holds ${fragments.length} fragments for ${count} frames`,
    );
  const table = pixel.basicOffsetTable ?? [];
  if (table.length === count) return (k) => dicomParser.readEncapsulatedImageFrame(ds, pixel, k);
  if (fragments.length === count)
    return (k) => dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, k, 1);
  let built: number[];
  try {
    built = dicomParser.createJPEGBasicOffsetTable(ds, pixel);
  } catch (e) {
    throw new DicomError(path, `cannot split the JPEG fragments into frames (${parserMessage(e)})`);
  }
  if (built.length !== count)
    throw new DicomError(path, `JPEG fragments hold ${built.length} frames, NumberOfFrames says ${count}`);
  return (k) => dicomParser.readEncapsulatedImageFrame(ds, pixel, k, built);
}

/** A fragment that ends without the JPEG end-of-image marker (FF D9, maybe followed by padding) was cut short. */
function endsWithEoi(data: Uint8Array): boolean {
  for (let i = data.length - 2; i >= Math.max(0, data.length - 4); i--)
    if (data[i] === 0xff && data[i + 1] === 0xd9) return true;
  return false;
}

/** Whether a file's name says DICOM (.dcm, .dicom); many exports have no extension at all. */
export const hasDicomName = (name: string): boolean => /\.(dcm|dicom)$/i.test(name);

/** The refusal of a file that is not DICOM at all, wherever it is found out. */
export const NOT_DICOM_PART10 = 'not a DICOM Part 10 file (no "DICM" marker at byte 128)';

/** Whether `bytes` start as a DICOM Part 10 file: "DICM" right after the 128-byte preamble. */
export function hasDicomMarker(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
}

/** What the header of an acceptable cine loop says; the checks every reader of the file needs. */
interface CineHeader {
  ds: DataSet;
  syntax: string;
  jpeg: boolean;
  count: number;
  rows: number;
  columns: number;
  photometric: Photometric;
  layout: PixelLayout;
  rate: FrameRate;
  modality: string | null;
  sopClass: string | null;
}

/**
 * Parses the data set and checks its header (errors as decodeDicomVideo's, except those about the
 * pixel data itself).
 */
function cineHeader(path: string, bytes: Uint8Array): CineHeader {
  if (!hasDicomMarker(bytes)) throw new DicomError(path, NOT_DICOM_PART10);
  const ds = parse(path, bytes);

  const syntax = str(ds, 'x00020010') ?? '';
  const modality = str(ds, 'x00080060');
  const sopClass = str(ds, 'x00080016') ?? str(ds, 'x00020002');
  if (modality !== null && modality !== 'US')
    throw new DicomError(path, `modality ${modality} is not ultrasound (US)`);
  if (modality === null && !(sopClass && ULTRASOUND_SOP_CLASSES.has(sopClass)))
    throw new DicomError(
      path,
      `no Modality attribute and SOP class ${sopClass ?? 'unknown'} is not an ultrasound image`,
    );
  const jpeg = syntax === JPEG_BASELINE;
  if (!jpeg && !NATIVE_SYNTAXES.has(syntax))
    throw new DicomError(
      path,
      `unsupported transfer syntax ${syntax || '(none)'} (${transferSyntaxName(syntax)}); supported: ${supportedSyntaxes()}. ` +
        'Convert it first, e.g. with dcmtk: dcmdjpeg / dcmdrle / dcmconv +te in.dcm out.dcm',
    );

  const count = ds.intString('x00280008') ?? 1;
  if (!(count >= 2))
    throw new DicomError(
      path,
      `single-frame image (NumberOfFrames ${count}); segment-video needs a cine loop`,
    );
  const rows = requireInt(path, ds, 'x00280010', 'Rows');
  const columns = requireInt(path, ds, 'x00280011', 'Columns');
  const samples = ds.uint16('x00280002') ?? 1;
  const bits = ds.uint16('x00280100') ?? 8;
  const photometric = (str(ds, 'x00280004') ?? '') as Photometric;
  if (!PHOTOMETRICS.includes(photometric))
    throw new DicomError(
      path,
      `unsupported photometric interpretation ${photometric || '(none)'}; supported: ${PHOTOMETRICS.join(', ')}`,
    );
  const mono = photometric.startsWith('MONOCHROME');
  if (samples !== (mono ? 1 : 3))
    throw new DicomError(path, `${photometric} with ${samples} samples per pixel is not valid`);
  if (bits !== 8)
    throw new DicomError(path, `${bits} bits allocated per sample; only 8-bit ultrasound is supported`);
  if (photometric === 'YBR_FULL_422' && !jpeg && columns % 2 !== 0)
    throw new DicomError(path, `YBR_FULL_422 needs an even number of columns, got ${columns}`);
  const planar = (ds.uint16('x00280006') ?? 0) === 1 ? 1 : 0;
  const layout: PixelLayout = { rows, columns, photometric, planar };

  const rate = dicomFrameRate(ds);
  if (!rate)
    throw new DicomError(
      path,
      'no frame rate: none of FrameTime, FrameTimeVector, CineRate, RecommendedDisplayFrameRate is present',
    );
  return { ds, syntax, jpeg, count, rows, columns, photometric, layout, rate, modality, sopClass };
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
    width: h.columns,
    height: h.rows,
    frames: h.count,
    fps: h.rate.fps,
    fpsFrom: h.rate.from,
    spacing: dicomPixelSpacing(h.ds),
  };
}

/**
 * Decodes a multi-frame ultrasound DICOM file's bytes (`path` names it in messages). Refuses,
 * with one error naming the file and the reason: non-DICOM content, corrupt or truncated data,
 * unsupported transfer syntaxes and pixel formats, single-frame images, non-ultrasound
 * modalities, a missing frame rate. `onFrame` reports each decoded frame (the viewer's progress bar).
 */
export function decodeDicomVideo(
  path: string,
  bytes: Uint8Array,
  onFrame?: (done: number, total: number) => void,
): DicomVideo {
  const { ds, syntax, jpeg, count, rows, columns, photometric, layout, rate, modality, sopClass } =
    cineHeader(path, bytes);
  const pixel = ds.elements['x7fe00010'];
  if (!pixel) throw new DicomError(path, 'no pixel data (7FE0,0010)');

  const frameRgb = rows * columns * 3;
  const frames = new Uint8Array(count * frameRgb);
  if (jpeg) {
    if (!pixel.encapsulatedPixelData)
      throw new DicomError(path, 'transfer syntax is JPEG baseline but the pixel data is not encapsulated');
    const frame = jpegFrames(path, ds, pixel, count);
    for (let k = 0; k < count; k++) {
      let data: Uint8Array;
      try {
        data = frame(k);
      } catch (e) {
        throw new DicomError(path, `cannot read JPEG frame ${k} (${parserMessage(e)})`);
      }
      if (!endsWithEoi(data))
        throw new DicomError(path, `JPEG frame ${k} is cut short (no end-of-image marker)`);
      try {
        jpegFrameToRgb(data, layout, frames.subarray(k * frameRgb, (k + 1) * frameRgb));
      } catch (e) {
        throw new DicomError(path, `corrupt JPEG frame ${k} (${parserMessage(e)})`);
      }
      onFrame?.(k + 1, count);
    }
  } else {
    if (pixel.encapsulatedPixelData)
      throw new DicomError(
        path,
        `pixel data is encapsulated, but ${transferSyntaxName(syntax)} is a native syntax`,
      );
    const frameBytes = nativeFrameBytes(layout);
    const need = count * frameBytes;
    const end = pixel.dataOffset + pixel.length;
    const buffer = ds.byteArray;
    if (pixel.length < need || end > buffer.length)
      throw new DicomError(
        path,
        `truncated pixel data: ${Math.min(pixel.length, buffer.length - pixel.dataOffset)} bytes, ` +
          `${count} frames of ${columns}x${rows} ${photometric} need ${need}`,
      );
    for (let k = 0; k < count; k++) {
      const at = pixel.dataOffset + k * frameBytes;
      nativeFrameToRgb(
        buffer.subarray(at, at + frameBytes),
        layout,
        frames.subarray(k * frameRgb, (k + 1) * frameRgb),
      );
      onFrame?.(k + 1, count);
    }
  }
  return {
    frames,
    count,
    height: rows,
    width: columns,
    fps: rate.fps,
    spacing: dicomPixelSpacing(ds),
    dicom: {
      transferSyntax: syntax,
      transferSyntaxName: transferSyntaxName(syntax),
      photometric,
      modality,
      sopClass,
      manufacturer: str(ds, 'x00080070'),
      fpsFrom: rate.from,
      regions: ultrasoundRegions(ds).map(({ spacing: _, ...r }) => r),
    },
  };
}
