/**
 * MetaImage files (.mhd text header + .raw/.zraw data, or one .mha), the format of CAMUS's older
 * release. The header is "Key = Value" lines (ITK's MetaIO); no maintained npm package reads it,
 * and the part CAMUS uses is small: NDims, DimSize, ElementSpacing, ElementType, the byte order,
 * CompressedData (zlib) and ElementDataFile (a file beside the header, or LOCAL: data after the
 * header). Layout and orientation: see volume.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { unzlibSync } from 'fflate';
import { DataError } from '../errors.js';
import { sampleBytes, toVolume, type SampleType, type Volume } from './volume.js';

const MET_TYPES: Record<string, SampleType> = {
  MET_UCHAR: 'uint8',
  MET_CHAR: 'int8',
  MET_USHORT: 'uint16',
  MET_SHORT: 'int16',
  MET_UINT: 'uint32',
  MET_INT: 'int32',
  MET_FLOAT: 'float32',
  MET_DOUBLE: 'float64',
};

/** The header's fields (keys as written) and where the header text ends in the file. */
function parseHeader(file: string, bytes: Uint8Array): { fields: Map<string, string>; end: number } {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < bytes.length) {
    let nl = bytes.indexOf(10, at);
    if (nl < 0) nl = bytes.length;
    const line = Buffer.from(bytes.subarray(at, nl)).toString('latin1').replace(/\r$/, '');
    at = nl + 1;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new DataError(file, `header line "${line.slice(0, 60)}" is not "Key = Value"`);
    const key = line.slice(0, eq).trim();
    fields.set(key, line.slice(eq + 1).trim());
    // MetaIO: ElementDataFile is always the last header line.
    if (key === 'ElementDataFile') return { fields, end: at };
    if (fields.size > 200) break;
  }
  throw new DataError(file, 'not a MetaImage header (no ElementDataFile line)');
}

function numbers(file: string, fields: Map<string, string>, key: string, n: number): number[] {
  const text = fields.get(key);
  if (text === undefined) throw new DataError(file, `header has no ${key}`);
  const v = text.split(/\s+/).map(Number);
  if (v.length < n || v.slice(0, n).some((x) => !Number.isFinite(x)))
    throw new DataError(file, `${key} = "${text}" is not ${n} numbers`);
  return v.slice(0, n);
}

const isTrue = (s: string | undefined): boolean => /^true$/i.test(s ?? '');

/** A .mhd/.mha file as uint8 frames [frames, height, width] with its pixel spacing in mm. */
export function readMetaImage(file: string): Volume {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot read (${(e as Error).message})`);
  }
  const { fields, end } = parseHeader(file, bytes);
  const [ndim] = numbers(file, fields, 'NDims', 1);
  if (ndim !== 2 && ndim !== 3)
    throw new DataError(file, `NDims ${ndim}: expected 2 (an image) or 3 (frames)`);
  const dims = numbers(file, fields, 'DimSize', ndim);
  const spacing = fields.has('ElementSpacing')
    ? numbers(file, fields, 'ElementSpacing', ndim)
    : fields.has('ElementSize')
      ? numbers(file, fields, 'ElementSize', ndim)
      : [1, 1];
  const typeName = fields.get('ElementType') ?? '';
  const type = MET_TYPES[typeName];
  if (!type)
    throw new DataError(file, `ElementType "${typeName}" is not one of ${Object.keys(MET_TYPES).join(', ')}`);
  const channels = Number(fields.get('ElementNumberOfChannels') ?? 1);
  if (channels !== 1) throw new DataError(file, `ElementNumberOfChannels ${channels}: CAMUS images are grey`);
  const msb = isTrue(fields.get('BinaryDataByteOrderMSB')) || isTrue(fields.get('ElementByteOrderMSB'));
  const [width, height, frames = 1] = dims;
  const need = width * height * frames * sampleBytes(type);
  const dataFile = fields.get('ElementDataFile')!;
  let data: Uint8Array;
  if (dataFile === 'LOCAL') data = bytes.subarray(end);
  else {
    if (/^(LIST|.*%)/.test(dataFile))
      throw new DataError(file, `ElementDataFile "${dataFile}": only one data file (or LOCAL) is supported`);
    const path = isAbsolute(dataFile) ? dataFile : join(dirname(file), dataFile);
    if (!existsSync(path)) throw new DataError(file, `its data file ${path} is missing`);
    data = readFileSync(path);
  }
  const headerSize = Number(fields.get('HeaderSize') ?? 0);
  if (isTrue(fields.get('CompressedData'))) {
    try {
      data = unzlibSync(data);
    } catch (e) {
      throw new DataError(file, `corrupt zlib data (${(e as Error).message})`);
    }
  } else if (headerSize === -1) data = data.subarray(Math.max(0, data.length - need));
  else if (headerSize > 0) data = data.subarray(headerSize);
  return toVolume({
    file,
    width,
    height,
    frames,
    spacing: { x: spacing[0], y: spacing[1] },
    type,
    littleEndian: !msb,
    bytes: data,
  });
}
