/**
 * A CAMUS image or label file as the rest of the code sees it, whatever the container (NIfTI or
 * MetaImage): uint8 frames [frames, height, width], row-major, as SimpleITK's GetArrayFromImage
 * returns them (and as upstream reads them). Both containers store x fastest, then y, then the
 * frame, so the file's voxel order already is that layout; nibabel's get_fdata() shows the same
 * bytes transposed ([x, y, frame]). Direction cosines are ignored, as upstream ignores them.
 */
import { DataError } from '../errors.js';

export interface Spacing {
  /** mm per pixel along a row (x) and down a column (y). */
  x: number;
  y: number;
}

export interface Volume {
  file: string;
  frames: number;
  height: number;
  width: number;
  /** uint8 [frames, height, width]. */
  data: Uint8Array;
  spacing: Spacing;
}

/** The sample types both containers use, by their element size and reader. */
export type SampleType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

const BYTES: Record<SampleType, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  float64: 8,
};

export const sampleBytes = (t: SampleType): number => BYTES[t];

/** Sample k of `bytes` as a number. */
function sampleReader(view: DataView, type: SampleType, little: boolean): (k: number) => number {
  switch (type) {
    case 'uint8':
      return (k) => view.getUint8(k);
    case 'int8':
      return (k) => view.getInt8(k);
    case 'uint16':
      return (k) => view.getUint16(2 * k, little);
    case 'int16':
      return (k) => view.getInt16(2 * k, little);
    case 'uint32':
      return (k) => view.getUint32(4 * k, little);
    case 'int32':
      return (k) => view.getInt32(4 * k, little);
    case 'float32':
      return (k) => view.getFloat32(4 * k, little);
    case 'float64':
      return (k) => view.getFloat64(8 * k, little);
  }
}

export interface RawVolume {
  file: string;
  /** Voxel counts along x, y and frames (1 for a single image). */
  width: number;
  height: number;
  frames: number;
  spacing: Spacing;
  type: SampleType;
  littleEndian: boolean;
  bytes: Uint8Array;
  /** value = slope * stored + intercept (NIfTI's scl_slope/scl_inter; 1 and 0 otherwise). */
  slope?: number;
  intercept?: number;
}

/**
 * The samples as uint8, as upstream gets them: read as float, asserted to lie in [0, 255], then
 * cast (astype(np.uint8) truncates a fraction). Values outside that range, NaN, a short data
 * block or a bad spacing are errors naming the file.
 */
export function toVolume(raw: RawVolume): Volume {
  const { file, width, height, frames, type } = raw;
  for (const [name, n] of [
    ['width', width],
    ['height', height],
    ['frames', frames],
  ] as const)
    if (!(Number.isInteger(n) && n >= 1)) throw new DataError(file, `${name} ${n} is not a positive integer`);
  for (const axis of ['x', 'y'] as const)
    if (!(raw.spacing[axis] > 0 && Number.isFinite(raw.spacing[axis])))
      throw new DataError(
        file,
        `pixel spacing along ${axis} is ${raw.spacing[axis]}, not a positive number of mm`,
      );
  const count = width * height * frames;
  const need = count * BYTES[type];
  if (raw.bytes.length < need)
    throw new DataError(
      file,
      `image data holds ${raw.bytes.length} bytes, ${width}x${height}x${frames} ${type} samples need ${need} (truncated file?)`,
    );
  const read = sampleReader(
    new DataView(raw.bytes.buffer, raw.bytes.byteOffset, need),
    type,
    raw.littleEndian,
  );
  const slope = raw.slope ?? 1;
  const intercept = raw.intercept ?? 0;
  const data = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const v = slope * read(k) + intercept;
    if (!(v >= 0 && v <= 255))
      throw new DataError(file, `sample ${k} is ${v}: CAMUS images and labels are 0..255`);
    data[k] = Math.trunc(v);
  }
  return { file, width, height, frames, spacing: { ...raw.spacing }, data };
}

/** Frame `f` of a volume, [height, width]. */
export function frameOf(v: Pick<Volume, 'data' | 'height' | 'width'>, f: number): Uint8Array {
  const plane = v.height * v.width;
  return v.data.subarray(f * plane, (f + 1) * plane);
}
