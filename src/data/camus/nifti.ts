/**
 * NIfTI-1/2 files (.nii, .nii.gz) of the CAMUS release, read with nifti-reader-js (its own gzip
 * handling through fflate), and a minimal NIfTI-1 writer for the CAMUS-format copies of synthetic
 * data (docs/camus.md#synthetic-copy). Layout and orientation: see volume.ts.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { atomicWriteFile } from '../../util/atomic.js';
import { DataError } from '../errors.js';
import { toVolume, type SampleType, type Spacing, type Volume } from './volume.js';

const NIFTI_TYPES: Record<number, SampleType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A NIfTI file as uint8 frames [frames, height, width] with its pixel spacing in mm. */
export function readNifti(file: string): Volume {
  let data: ArrayBuffer;
  try {
    data = arrayBufferOf(readFileSync(file));
  } catch (e) {
    throw new DataError(file, `cannot read (${(e as Error).message})`);
  }
  if (nifti.isCompressed(data)) {
    try {
      data = nifti.decompress(data) as ArrayBuffer;
    } catch (e) {
      throw new DataError(file, `corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (!nifti.isNIFTI(data)) throw new DataError(file, 'not a NIfTI file (no n+1/n+2 magic in its header)');
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  let image: ArrayBuffer;
  try {
    header = nifti.readHeader(data);
    image = nifti.readImage(header, data);
  } catch (e) {
    throw new DataError(file, `unreadable NIfTI header (${(e as Error).message})`);
  }
  const type = NIFTI_TYPES[header.datatypeCode];
  if (!type)
    throw new DataError(file, `NIfTI datatype ${header.datatypeCode} is not a plain integer or float type`);
  const [ndim, width, height, frames = 1, ...more] = header.dims;
  if (!(ndim >= 2 && ndim <= 7) || more.slice(0, Math.max(0, ndim - 3)).some((d) => d !== 1))
    throw new DataError(file, `dimensions [${header.dims.slice(1, ndim + 1)}] are not x, y and frames`);
  const slope = header.scl_slope;
  // NIfTI: a slope of 0 (or NaN) means "no scaling".
  const scaled = Number.isFinite(slope) && slope !== 0;
  return toVolume({
    file,
    width,
    height,
    frames: ndim >= 3 ? frames : 1,
    spacing: { x: header.pixDims[1], y: header.pixDims[2] },
    type,
    littleEndian: header.littleEndian,
    bytes: new Uint8Array(image),
    slope: scaled ? slope : 1,
    intercept: scaled && Number.isFinite(header.scl_inter) ? header.scl_inter : 0,
  });
}

/**
 * A NIfTI-1 single file (.nii, or gzipped when the name ends in .gz) of uint8 frames [frames,
 * height, width] with pixel spacing in mm, x fastest on disk as the standard lays voxels out.
 * The affine is the diagonal of the spacing (sform and qform, code 1 "scanner"), as CAMUS's own
 * files carry no rotation.
 */
export function writeNifti(
  file: string,
  v: { frames: number; height: number; width: number; data: Uint8Array; spacing: Spacing },
): void {
  const { frames, height, width, spacing } = v;
  if (v.data.length !== frames * height * width)
    throw new Error(`${file}: ${v.data.length} samples for ${frames}x${height}x${width}`);
  const VOX_OFFSET = 352; // 348-byte header + 4-byte extension flag
  const header = new DataView(new ArrayBuffer(VOX_OFFSET));
  const le = true;
  header.setInt32(0, 348, le); // sizeof_hdr
  header.setUint8(39, 0); // dim_info
  const dims = [3, width, height, frames, 1, 1, 1, 1];
  dims.forEach((d, i) => header.setInt16(40 + 2 * i, d, le));
  header.setInt16(70, 2, le); // datatype: DT_UINT8
  header.setInt16(72, 8, le); // bitpix
  const pix = [1, spacing.x, spacing.y, 1, 1, 1, 1, 1]; // pixdim[0] = qfac
  pix.forEach((p, i) => header.setFloat32(76 + 4 * i, p, le));
  header.setFloat32(108, VOX_OFFSET, le); // vox_offset
  header.setFloat32(112, 1, le); // scl_slope
  header.setFloat32(116, 0, le); // scl_inter
  header.setUint8(123, 2 | 8); // xyzt_units: mm, seconds
  header.setInt16(252, 1, le); // qform_code
  header.setInt16(254, 1, le); // sform_code
  // quatern b, c, d = 0 (identity rotation), offsets 0; srow_x/y/z = the spacing's diagonal.
  const srow = [
    [spacing.x, 0, 0, 0],
    [0, spacing.y, 0, 0],
    [0, 0, 1, 0],
  ];
  srow.flat().forEach((s, i) => header.setFloat32(280 + 4 * i, s, le));
  const magic = 'n+1\0';
  for (let i = 0; i < 4; i++) header.setUint8(344 + i, magic.charCodeAt(i));
  const bytes = Buffer.concat([Buffer.from(header.buffer), Buffer.from(v.data)]);
  atomicWriteFile(file, file.endsWith('.gz') ? gzipSync(bytes, { level: 6 }) : bytes);
}
