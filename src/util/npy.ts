/**
 * NumPy's .npy format (version 1.0) for uint8 arrays: the magic "\x93NUMPY", the version, a
 * little-endian uint16 header length, a Python dict literal (descr '|u1', C order, the shape)
 * padded with spaces and a newline so the data starts on a 64-byte boundary, then the bytes.
 * np.load reads what writeNpyU8 writes; readNpyU8 reads what np.save writes for uint8 arrays.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { atomicWriteFile } from './atomic.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** The .npy bytes of a uint8 C-order array of `shape`. */
function npyBytesU8(data: Uint8Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`${data.length} values for shape [${shape}]`);
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '|u1', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head[6] = 1; // major version
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  return Buffer.concat([
    head,
    Buffer.from(dict, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.length),
  ]);
}

/** Writes a uint8 array as .npy, atomically. */
export function writeNpyU8(file: string, data: Uint8Array, shape: readonly number[]): void {
  atomicWriteFile(file, npyBytesU8(data, shape));
}

/** A uint8 (or bool) C-order .npy file (gzipped when its name ends in .gz): its shape and bytes. */
export function readNpyU8(file: string): { shape: number[]; data: Uint8Array } {
  const bytes = file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file);
  if (!bytes.subarray(0, 6).equals(MAGIC)) throw new Error(`${file}: not a .npy file`);
  const major = bytes[6];
  const lenBytes = major === 1 ? 2 : 4;
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = 8 + lenBytes;
  const header = bytes.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (descr !== '|u1' && descr !== '|b1') throw new Error(`${file}: dtype ${descr}, expected uint8`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order is not supported`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(bytes.subarray(start + headerLen, start + headerLen + count));
  if (data.length !== count) throw new Error(`${file}: ${data.length} bytes for shape [${shape}]`);
  return { shape, data };
}
