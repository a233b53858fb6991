/**
 * Decoded DICOM samples to RGB24: colour (RGB, YBR_FULL) at 8 bits as stored or scaled from more
 * bits, greyscale through a 256- or 65536-entry table (8 bits as stored; 9-16 bits by the file's
 * VOI window, else the whole range BitsStored allows), PALETTE COLOR through its lookup tables.
 * See docs/dicom.md for what is read and how.
 */

export type Photometric =
  | 'RGB'
  | 'YBR_FULL'
  | 'YBR_FULL_422'
  | 'YBR_RCT'
  | 'YBR_ICT'
  | 'MONOCHROME1'
  | 'MONOCHROME2'
  | 'PALETTE COLOR';

export const PHOTOMETRICS: readonly Photometric[] = [
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_RCT',
  'YBR_ICT',
  'MONOCHROME1',
  'MONOCHROME2',
  'PALETTE COLOR',
];

/** Raw sample words as a codec or the file gives them: 8-bit in bytes, wider in 16-bit words. */
export type SampleValues = Uint8Array | Uint16Array | Int16Array;

/** One decoded frame: samples pixel-interleaved (R G B R G B ...), and whether 3 of them are YCbCr. */
export interface DecodedFrame {
  values: SampleValues;
  ycbcr: boolean;
}

/** What the header says about the pixels, and the tables that turn its samples into 8-bit RGB. */
export interface PixelFormat {
  rows: number;
  columns: number;
  samples: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  signed: boolean;
  photometric: Photometric;
  /** 0: R1 G1 B1 R2 ...; 1: all R, then all G, then all B (per frame; native and RLE data only). */
  planar: 0 | 1;
  /**
   * Wider than 8 bits (indexed by the 16-bit word): greyscale to 8-bit by window or range;
   * colour scaled to 8 bits. Palette images use `palette` instead.
   */
  to8?: Uint8Array;
  /** PALETTE COLOR: red, green, blue output for each index (8-bit: 256 entries; else by the 16-bit word). */
  palette?: [Uint8Array, Uint8Array, Uint8Array];
}

export const isGreyscale = (p: Photometric): boolean => p === 'MONOCHROME1' || p === 'MONOCHROME2';

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Full-range YCbCr (ITU-R BT.601 coefficients, as DICOM defines YBR_FULL and JPEG's JFIF) to RGB,
 * one pixel into `out` at `at`.
 */
function ybrToRgb(y: number, cb: number, cr: number, out: Uint8Array, at: number): void {
  out[at] = clamp8(y + 1.402 * (cr - 128));
  out[at + 1] = clamp8(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
  out[at + 2] = clamp8(y + 1.772 * (cb - 128));
}

/** The stored value of a raw sample word: its low `bits` bits, sign-extended when `signed`. */
export function storedValue(word: number, bits: number, signed: boolean): number {
  const v = word & ((1 << bits) - 1);
  return signed && v >= 1 << (bits - 1) ? v - (1 << bits) : v;
}

/** Stored values of every sample (tests and tools compare these with other decoders). */
export function storedValues(values: SampleValues, f: PixelFormat): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = storedValue(values[i], f.bitsStored, f.signed);
  return out;
}

/** The VOI transform of a greyscale image: its window (PS3.3 C.11.2.1.2) or none. */
export interface VoiWindow {
  center: number;
  width: number;
  fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
}

/** A modality value to 0..1 by the window's function. */
function windowed(x: number, w: VoiWindow): number {
  const { center: c, width } = w;
  if (w.fn === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - c)) / width));
  if (w.fn === 'LINEAR_EXACT') {
    if (x <= c - width / 2) return 0;
    if (x > c + width / 2) return 1;
    return (x - c) / width + 0.5;
  }
  if (x <= c - 0.5 - (width - 1) / 2) return 0;
  if (x > c - 0.5 + (width - 1) / 2) return 1;
  return (x - (c - 0.5)) / (width - 1) + 0.5;
}

/**
 * The 65536-entry table from a >8-bit sample word to 8 bits. Greyscale: stored value, then the
 * rescale (slope, intercept), then the window or, without one, the rescaled range of BitsStored
 * mapped linearly onto 0-255; MONOCHROME1 inverted. Colour: the stored range onto 0-255.
 */
export function eightBitTable(
  f: Pick<PixelFormat, 'bitsStored' | 'signed' | 'photometric'>,
  rescale: { slope: number; intercept: number },
  window: VoiWindow | null,
): Uint8Array {
  const table = new Uint8Array(65536);
  const bits = f.bitsStored;
  const lo = f.signed ? -(2 ** (bits - 1)) : 0;
  const hi = f.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const grey = isGreyscale(f.photometric);
  const a = grey ? lo * rescale.slope + rescale.intercept : lo;
  const b = grey ? hi * rescale.slope + rescale.intercept : hi;
  const [min, max] = a <= b ? [a, b] : [b, a];
  for (let word = 0; word < 65536; word++) {
    const stored = storedValue(word, bits, f.signed);
    const x = grey ? stored * rescale.slope + rescale.intercept : stored;
    const unit = window && grey ? windowed(x, window) : max > min ? (x - min) / (max - min) : 0;
    const y = Math.floor(Math.min(1, Math.max(0, unit)) * 255);
    table[word] = f.photometric === 'MONOCHROME1' ? 255 - y : y;
  }
  return table;
}

/** One decoded frame into RGB24 `out`. */
export function frameToRgb(frame: DecodedFrame, f: PixelFormat, out: Uint8Array): void {
  const n = f.rows * f.columns;
  const v = frame.values;
  if (v.length < n * f.samples) throw new Error(`${v.length} samples decoded, ${n * f.samples} expected`);
  if (f.palette) {
    const [r, g, b] = f.palette;
    for (let i = 0; i < n; i++) {
      const k = v[i] & 0xffff;
      out[3 * i] = r[k];
      out[3 * i + 1] = g[k];
      out[3 * i + 2] = b[k];
    }
    return;
  }
  const to8 = f.to8;
  if (f.samples === 1) {
    const invert = !to8 && f.photometric === 'MONOCHROME1';
    for (let i = 0; i < n; i++) {
      const s = to8 ? to8[v[i] & 0xffff] : invert ? 255 - v[i] : v[i];
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = s;
    }
    return;
  }
  if (!frame.ycbcr) {
    if (!to8) out.set(v.subarray(0, 3 * n));
    else for (let i = 0; i < 3 * n; i++) out[i] = to8[v[i] & 0xffff];
    return;
  }
  for (let i = 0; i < 3 * n; i += 3)
    if (to8) ybrToRgb(to8[v[i] & 0xffff], to8[v[i + 1] & 0xffff], to8[v[i + 2] & 0xffff], out, i);
    else ybrToRgb(v[i], v[i + 1], v[i + 2], out, i);
}

/** Planes (all of sample 0, all of sample 1, ...) to pixel-interleaved order. */
export function interleave<T extends SampleValues>(planes: T, samples: number, n: number): T {
  // Not planes.constructor: a Node Buffer's is the deprecated Buffer().
  const out = (
    planes instanceof Uint16Array
      ? new Uint16Array(samples * n)
      : planes instanceof Int16Array
        ? new Int16Array(samples * n)
        : new Uint8Array(samples * n)
  ) as T;
  for (let s = 0; s < samples; s++) for (let i = 0; i < n; i++) out[samples * i + s] = planes[s * n + i];
  return out;
}

/** YBR_FULL_422 bytes (each horizontal pair of pixels as Y1 Y2 Cb Cr, PS3.3 C.7.6.3.1.2) to Y Cb Cr per pixel. */
export function expandYbr422(src: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(3 * n);
  for (let p = 0; p < n / 2; p++) {
    const cb = src[4 * p + 2];
    const cr = src[4 * p + 3];
    out[6 * p] = src[4 * p];
    out[6 * p + 3] = src[4 * p + 1];
    out[6 * p + 1] = out[6 * p + 4] = cb;
    out[6 * p + 2] = out[6 * p + 5] = cr;
  }
  return out;
}
