/**
 * The data set of a multi-frame ultrasound DICOM file and the checks every reader of it needs:
 * Part 10 marker, parse (deflated syntax inflated by fflate), modality, transfer syntax, pixel
 * data present, frame count, pixel format (with its 8-bit tables), frame rate. Browser-safe.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { inflateSync } from 'fflate';
import { VideoError } from '../errors.js';
import { paletteTables } from './palette.js';
import {
  eightBitTable,
  isGreyscale,
  PHOTOMETRICS,
  type Photometric,
  type PixelFormat,
  type VoiWindow,
} from './pixels.js';
import { dicomFrameRate, type FrameRate } from './regions.js';
import {
  conversionHint,
  EXPLICIT_BE,
  pixelCodec,
  SUPPORTED_SYNTAXES,
  syntaxLabel,
  ULTRASOUND_SOP_CLASSES,
  type PixelCodec,
} from './syntax.js';

/** A DICOM file that cannot be read as an ultrasound cine loop; the message names file and reason. */
export class DicomError extends VideoError {
  constructor(file: string, problem: string) {
    super(file, problem);
    this.name = 'DicomError';
  }
}

/** Whether a file's name says DICOM (.dcm, .dicom); many exports have no extension at all. */
export const hasDicomName = (name: string): boolean => /\.(dcm|dicom)$/i.test(name);

/** The refusal of a file that is not DICOM at all, wherever it is found out. */
export const NOT_DICOM_PART10 = 'not a DICOM Part 10 file (no "DICM" marker at byte 128)';

/** Whether `bytes` start as a DICOM Part 10 file: "DICM" right after the 128-byte preamble. */
export function hasDicomMarker(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
}

/** dicom-parser throws strings and {exception} objects as well as Errors. */
export function parserMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return String((e as { exception: unknown }).exception);
  return String(e);
}

/** What dicom-parser and fflate say when the bytes end before the data set does. */
const ENDS_EARLY = /past end|overrun|maxPosition|unexpected EOF|beyond|end of (the )?buffer/i;

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
    const m = parserMessage(e);
    throw new DicomError(
      path,
      ENDS_EARLY.test(m)
        ? `truncated DICOM file: its ${bytes.length} bytes end inside the data set (${m})`
        : `corrupt or truncated DICOM file (${m})`,
    );
  }
}

export const str = (ds: DataSet, tag: string): string | null => ds.string(tag)?.trim() || null;

function requireInt(path: string, ds: DataSet, tag: string, name: string): number {
  const v = ds.uint16(tag);
  if (v === undefined || !(v > 0)) throw new DicomError(path, `missing or zero ${name} (${tag.slice(1)})`);
  return v;
}

/** The first VOI window of the data set, if it holds a usable one. */
function voiWindow(ds: DataSet): VoiWindow | null {
  const center = ds.floatString('x00281050', 0);
  const width = ds.floatString('x00281051', 0);
  const fn = (str(ds, 'x00281056') ?? 'LINEAR').toUpperCase();
  if (center === undefined || width === undefined || !Number.isFinite(center) || !Number.isFinite(width))
    return null;
  if (fn === 'LINEAR_EXACT' || fn === 'SIGMOID') return width > 0 ? { center, width, fn } : null;
  return width >= 1 ? { center, width, fn: 'LINEAR' } : null;
}

/** What the header of an acceptable cine loop says. */
export interface CineHeader {
  ds: DataSet;
  syntax: string;
  codec: PixelCodec;
  pixel: Element;
  count: number;
  format: PixelFormat;
  /** Native pixel data in big-endian 16-bit words (explicit VR big endian, OW or 16-bit). */
  swapWords: boolean;
  rate: FrameRate;
  modality: string | null;
  sopClass: string | null;
}

/** The sample layout a photometric interpretation needs, and where it is allowed. */
function checkPhotometric(path: string, photometric: Photometric, samples: number, codec: PixelCodec): void {
  const expected = isGreyscale(photometric) || photometric === 'PALETTE COLOR' ? 1 : 3;
  if (samples !== expected)
    throw new DicomError(path, `${photometric} with ${samples} samples per pixel is not valid`);
  if ((photometric === 'YBR_RCT' || photometric === 'YBR_ICT') && codec !== 'jpeg-2000')
    throw new DicomError(path, `${photometric} is only valid in JPEG 2000 files`);
  if (photometric === 'YBR_FULL_422' && codec !== 'native' && codec !== 'jpeg')
    throw new DicomError(path, `YBR_FULL_422 is not valid with ${codec} compression`);
}

/**
 * Parses the data set and checks its header; errors name the file and the reason (see
 * decodeDicomVideo).
 */
export function cineHeader(path: string, bytes: Uint8Array): CineHeader {
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
  const codec = pixelCodec(syntax);
  if (!codec)
    throw new DicomError(
      path,
      `unsupported transfer syntax ${syntaxLabel(syntax)}${conversionHint(syntax, dicomFrameRate(ds)?.fps)}; ` +
        `read here: ${SUPPORTED_SYNTAXES}`,
    );
  const pixel = ds.elements['x7fe00010'];
  // A parse that ends cleanly before the pixel data: the file was cut at an element boundary.
  if (!pixel)
    throw new DicomError(
      path,
      `truncated or incomplete DICOM file: its data set ends without pixel data (7FE0,0010)`,
    );
  if ((codec === 'native') === !!pixel.encapsulatedPixelData)
    throw new DicomError(
      path,
      codec === 'native'
        ? `pixel data is encapsulated, but ${syntaxLabel(syntax)} is a native syntax`
        : `transfer syntax is ${syntaxLabel(syntax)} but the pixel data is not encapsulated`,
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
  const bitsAllocated = ds.uint16('x00280100') ?? 8;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const photometric = (str(ds, 'x00280004') ?? '') as Photometric;
  if (!PHOTOMETRICS.includes(photometric))
    throw new DicomError(
      path,
      `unsupported photometric interpretation ${photometric || '(none)'}; read here: ${PHOTOMETRICS.join(', ')}`,
    );
  checkPhotometric(path, photometric, samples, codec);
  if (bitsAllocated !== 8 && bitsAllocated !== 16)
    throw new DicomError(path, `${bitsAllocated} bits allocated per sample; 8 and 16 are read`);
  if (!(bitsStored >= 1 && bitsStored <= bitsAllocated))
    throw new DicomError(path, `BitsStored ${bitsStored} does not fit BitsAllocated ${bitsAllocated}`);
  if (photometric === 'YBR_FULL_422' && codec === 'native' && (columns % 2 !== 0 || bitsAllocated !== 8))
    throw new DicomError(path, `YBR_FULL_422 needs 8-bit samples and an even number of columns`);
  const planar = (ds.uint16('x00280006') ?? 0) === 1 ? 1 : 0;
  const format: PixelFormat = {
    rows,
    columns,
    samples: samples as 1 | 3,
    bitsAllocated,
    bitsStored,
    signed,
    photometric,
    planar,
  };
  const bigEndian = syntax === EXPLICIT_BE;
  if (photometric === 'PALETTE COLOR') {
    try {
      format.palette = paletteTables(ds, format, bigEndian);
    } catch (e) {
      throw new DicomError(path, `unusable PALETTE COLOR lookup tables: ${(e as Error).message}`);
    }
  } else if (bitsStored > 8 || bitsAllocated > 8 || (signed && isGreyscale(photometric))) {
    const rescale = { slope: ds.floatString('x00281053') ?? 1, intercept: ds.floatString('x00281052') ?? 0 };
    format.to8 = eightBitTable(format, rescale, voiWindow(ds));
  }

  const rate = dicomFrameRate(ds);
  if (!rate)
    throw new DicomError(
      path,
      'no frame rate: none of FrameTime, FrameTimeVector, CineRate, RecommendedDisplayFrameRate is present',
    );
  return {
    ds,
    syntax,
    codec,
    pixel,
    count,
    format,
    swapWords: bigEndian && (pixel.vr === 'OW' || bitsAllocated === 16),
    rate,
    modality,
    sopClass,
  };
}
