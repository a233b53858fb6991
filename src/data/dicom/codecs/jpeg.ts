/**
 * Lossy JPEG frames (baseline, extended 8-bit, spectral selection, progressive; Huffman-coded)
 * decoded by jpeg-js. Whether 3 components hold YCbCr follows libjpeg's reading of the
 * JPEG's own markers, with the DICOM header only as the last word (see jpegHoldsYcbcr).
 */
import jpeg from 'jpeg-js';
import type { DecodedFrame, Photometric, PixelFormat } from '../pixels.js';

/** What a JPEG's markers before its first scan say. */
export interface JpegHeader {
  /** The start-of-frame marker's low nibble: 0 baseline, 1 extended, 2 progressive, 3 lossless, ... */
  process: number;
  precision: number;
  components: { id: number; h: number; v: number }[];
  jfif: boolean;
  /** The Adobe APP14 marker's colour transform flag (0: none, 1: YCbCr, 2: YCCK), if present. */
  adobeTransform: number | null;
}

/** Reads the markers up to the first scan; throws when the data is not a JPEG. */
export function jpegHeader(data: Uint8Array): JpegHeader {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8)
    throw new Error('fragment does not start with a JPEG SOI marker');
  const h: JpegHeader = { process: -1, precision: 0, components: [], jfif: false, adobeTransform: null };
  let at = 2;
  while (at + 4 <= data.length) {
    if (data[at] !== 0xff) throw new Error(`no JPEG marker at byte ${at}`);
    const marker = data[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: headers are over
    const length = (data[at + 2] << 8) | data[at + 3];
    const id = String.fromCharCode(...data.subarray(at + 4, Math.min(at + 9, data.length)));
    if (marker === 0xe0 && id === 'JFIF\0') h.jfif = true;
    if (marker === 0xee && id === 'Adobe' && at + 15 < data.length) h.adobeTransform = data[at + 15];
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      h.process = marker - 0xc0;
      h.precision = data[at + 4];
      const count = data[at + 9];
      for (let c = 0; c < count; c++) {
        const s = data[at + 11 + 3 * c];
        h.components.push({ id: data[at + 10 + 3 * c], h: s >> 4, v: s & 15 });
      }
    }
    at += 2 + length;
  }
  if (h.process < 0) throw new Error('JPEG without a start-of-frame marker');
  return h;
}

/**
 * Whether a 3-component JPEG holds YCbCr (to be converted) or RGB, as libjpeg decides it: a JFIF
 * marker means YCbCr; an Adobe marker's transform flag decides; components named 'R', 'G', 'B'
 * mean RGB; subsampled chroma means YCbCr (nobody subsamples RGB; gdcm's lossy JPEG says RGB in
 * the DICOM header and stores 4:2:0 YCbCr without either marker). Otherwise the DICOM
 * Photometric Interpretation decides (RGB: stored untransformed; YBR_*: YCbCr).
 */
export function jpegHoldsYcbcr(h: JpegHeader, photometric: Photometric): boolean {
  if (h.components.length !== 3) return false;
  if (h.jfif) return true;
  if (h.adobeTransform !== null) return h.adobeTransform !== 0;
  const ids = h.components.map((c) => c.id);
  if (ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42) return false;
  if (h.components.some((c) => c.h !== h.components[0].h || c.v !== h.components[0].v)) return true;
  return photometric !== 'RGB';
}

/**
 * A JPEG jpeg-js cannot decode: 12-bit lossy (dcmdjpeg converts it), or a process no tool here
 * reads (hierarchical, arithmetic-coded: `convertible` false).
 */
export class UnsupportedJpegError extends Error {
  constructor(
    message: string,
    readonly convertible: boolean,
  ) {
    super(message);
  }
}

export function decodeJpegFrame(data: Uint8Array, f: PixelFormat): DecodedFrame {
  const h = jpegHeader(data);
  if (h.precision !== 8)
    throw new UnsupportedJpegError(`${h.precision}-bit lossy JPEG (only 8-bit lossy JPEG is read)`, true);
  if (h.process === 3 || h.process >= 5)
    throw new UnsupportedJpegError(
      `the JPEG process of start-of-frame marker SOF${h.process} (lossless, hierarchical or arithmetic-coded) is not read in this syntax`,
      false,
    );
  if (h.components.length !== f.samples)
    throw new Error(`JPEG frame has ${h.components.length} components, the header says ${f.samples} samples`);
  const ycbcr = jpegHoldsYcbcr(h, f.photometric);
  // jpeg-js converts by itself whenever an Adobe marker says YCbCr; everywhere else it hands over
  // the components as stored and frameToRgb converts (rounding as libjpeg does).
  const converted = h.adobeTransform !== null && h.adobeTransform !== 0;
  const image = jpeg.decode(data, {
    useTArray: true,
    formatAsRGBA: false,
    colorTransform: false,
    maxResolutionInMP: 200,
    maxMemoryUsageInMB: 2048,
  });
  if (image.width !== f.columns || image.height !== f.rows)
    throw new Error(`JPEG frame is ${image.width}x${image.height}, the header says ${f.columns}x${f.rows}`);
  const n = f.rows * f.columns;
  const rgb = image.data as Uint8Array;
  if (f.samples === 3) return { values: rgb.subarray(0, 3 * n), ycbcr: ycbcr && !converted };
  // jpeg-js repeats a single component three times.
  const grey = new Uint8Array(n);
  for (let i = 0; i < n; i++) grey[i] = rgb[3 * i];
  return { values: grey, ycbcr: false };
}
