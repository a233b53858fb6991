// The safetensors format (huggingface/safetensors): 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}
// padded with spaces to 8-byte alignment, then the raw little-endian tensor bytes. Our writer is
// deterministic (tensors in the given order, packed back to back), so a file that is read and
// written again comes out byte for byte identical.
// Browser-safe (the viewer downloads checkpoints); safetensors.ts adds reading and writing files.
import { numel } from '../onnx/ir.js';

export type SafeDType = 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL';
export type SafeArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: SafeArray;
}

export interface SafetensorsContent {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1 };

function fromBytes(dtype: SafeDType, bytes: Uint8Array): SafeArray {
  // Copy into a fresh, aligned buffer (the data section is not aligned for every dtype; and a
  // Buffer's slice() is a view, so copy explicitly).
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buf = copy.buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F64':
      return new Float64Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    default:
      return new Uint8Array(buf);
  }
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
  throw new Error('safetensors: this module assumes a little-endian machine');

/** Serialises tensors (in map order) and string metadata to safetensors bytes. */
export function encodeSafetensors(content: SafetensorsContent): Uint8Array {
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(content.metadata))
    if (typeof v !== 'string') throw new Error(`safetensors: metadata ${k} must be a string`);
  if (Object.keys(content.metadata).length) header.__metadata__ = content.metadata;
  let offset = 0;
  for (const [name, t] of content.tensors) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is not a tensor name');
    const n = numel(t.shape);
    if (t.data.length !== n)
      throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = n * BYTES[t.dtype];
    if (t.data.byteLength !== bytes)
      throw new Error(`safetensors: ${name} data does not match dtype ${t.dtype}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20); // padded with spaces
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of content.tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Parses safetensors bytes; tensors come back in the order of their data offsets. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (bytes.length < 8) throw new Error('safetensors: file shorter than its header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length)
    throw new Error(`safetensors: header of ${headerLength} bytes runs past the end of the file`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    unknown
  >;
  const dataStart = 8 + headerLength;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, v]) => ({
      name,
      ...(v as { dtype: SafeDType; shape: number[]; data_offsets: [number, number] }),
    }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    if (!(e.dtype in BYTES)) throw new Error(`safetensors: ${e.name} has unsupported dtype ${e.dtype}`);
    const [begin, end] = e.data_offsets;
    const n = numel(e.shape);
    if (end - begin !== n * BYTES[e.dtype] || dataStart + end > bytes.length)
      throw new Error(
        `safetensors: ${e.name} offsets [${begin}, ${end}] do not fit shape [${e.shape}] ${e.dtype} or the file`,
      );
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      data: fromBytes(e.dtype, bytes.subarray(dataStart + begin, dataStart + end)),
    });
  }
  return { tensors, metadata };
}
