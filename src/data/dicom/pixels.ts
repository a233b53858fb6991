/**
 * DICOM pixel data to RGB24 frames: native 8-bit RGB (either planar configuration), YBR_FULL,
 * YBR_FULL_422, MONOCHROME1/2, and JPEG baseline fragments decoded by jpeg-js.
 */
import jpeg from 'jpeg-js';

export type Photometric = 'RGB' | 'YBR_FULL' | 'YBR_FULL_422' | 'MONOCHROME1' | 'MONOCHROME2';

export const PHOTOMETRICS: readonly Photometric[] = [
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'MONOCHROME1',
  'MONOCHROME2',
];

export interface PixelLayout {
  rows: number;
  columns: number;
  photometric: Photometric;
  /** 0: R1 G1 B1 R2 ...; 1: all R, then all G, then all B (per frame). */
  planar: 0 | 1;
}

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Full-range YCbCr (ITU-R BT.601 coefficients, as DICOM defines YBR_FULL) to RGB, one pixel into
 * `out` at `at`.
 */
function ybrToRgb(y: number, cb: number, cr: number, out: Uint8Array, at: number): void {
  out[at] = clamp8(y + 1.402 * (cr - 128));
  out[at + 1] = clamp8(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
  out[at + 2] = clamp8(y + 1.772 * (cb - 128));
}

/** Bytes one native frame takes. */
export function nativeFrameBytes(l: PixelLayout): number {
  const n = l.rows * l.columns;
  if (l.photometric === 'MONOCHROME1' || l.photometric === 'MONOCHROME2') return n;
  if (l.photometric === 'YBR_FULL_422') return 2 * n;
  return 3 * n;
}

/** One native 8-bit frame (`src` holds exactly nativeFrameBytes) into RGB24 `out`. */
export function nativeFrameToRgb(src: Uint8Array, l: PixelLayout, out: Uint8Array): void {
  const n = l.rows * l.columns;
  switch (l.photometric) {
    case 'MONOCHROME2':
    case 'MONOCHROME1': {
      const invert = l.photometric === 'MONOCHROME1';
      for (let i = 0; i < n; i++)
        out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = invert ? 255 - src[i] : src[i];
      return;
    }
    case 'RGB':
      if (l.planar === 0) out.set(src.subarray(0, 3 * n));
      else for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[3 * i + k] = src[k * n + i];
      return;
    case 'YBR_FULL':
      for (let i = 0; i < n; i++) {
        const [y, cb, cr] =
          l.planar === 0
            ? [src[3 * i], src[3 * i + 1], src[3 * i + 2]]
            : [src[i], src[n + i], src[2 * n + i]];
        ybrToRgb(y, cb, cr, out, 3 * i);
      }
      return;
    case 'YBR_FULL_422':
      // Each horizontal pair of pixels is stored as Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2): the two
      // pixels share one chroma sample.
      for (let p = 0; p < n / 2; p++) {
        const cb = src[4 * p + 2];
        const cr = src[4 * p + 3];
        ybrToRgb(src[4 * p], cb, cr, out, 6 * p);
        ybrToRgb(src[4 * p + 1], cb, cr, out, 6 * p + 3);
      }
      return;
  }
}

/**
 * Whether a 3-component JPEG holds YCbCr (to be converted) or RGB: an Adobe APP14 marker's
 * transform flag or a JFIF APP0 marker decides; without either, the DICOM Photometric
 * Interpretation does (RGB: stored untransformed; YBR_*: YCbCr).
 */
export function jpegHoldsYcbcr(data: Uint8Array, photometric: Photometric): boolean {
  let at = 2; // after SOI
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: headers are over
    const length = (data[at + 2] << 8) | data[at + 3];
    const id = String.fromCharCode(...data.subarray(at + 4, Math.min(at + 9, data.length)));
    if (marker === 0xee && id === 'Adobe' && at + 15 < data.length) return data[at + 15] !== 0;
    if (marker === 0xe0 && id === 'JFIF\0') return true;
    at += 2 + length;
  }
  return photometric !== 'RGB';
}

/** Decode one JPEG baseline frame to RGB24 into `out`; throws with a short reason on bad data. */
export function jpegFrameToRgb(data: Uint8Array, l: PixelLayout, out: Uint8Array): void {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8)
    throw new Error('fragment does not start with a JPEG SOI marker');
  const image = jpeg.decode(data, {
    useTArray: true,
    formatAsRGBA: false,
    colorTransform: jpegHoldsYcbcr(data, l.photometric),
    maxResolutionInMP: 200,
    maxMemoryUsageInMB: 2048,
  });
  if (image.width !== l.columns || image.height !== l.rows)
    throw new Error(`JPEG frame is ${image.width}x${image.height}, the header says ${l.columns}x${l.rows}`);
  out.set(image.data.subarray(0, 3 * l.rows * l.columns));
  if (l.photometric === 'MONOCHROME1') for (let i = 0; i < out.length; i++) out[i] = 255 - out[i];
}
