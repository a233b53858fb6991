// torch.save files (a Lightning .ckpt is one too): the pickle is read with our non-executing
// reader, interpreting only what a tensor needs, and tensors are rebuilt from their storages with
// offsets and strides, as float32 (other float types converted, with a note).
import { Buffer } from 'node:buffer';
import type { SafeTensor } from '../safetensors.js';
import { PyDict, PyGlobal, PyObject, unpickle, type PyValue } from './pickle.js';
import { TorchZipArchive } from './zip-archive.js';
import { numel } from '../../onnx/ir.js';

type TorchDType =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Storage class names in persistent ids (torch.FloatStorage, ...; UntypedStorage holds bytes). */
const STORAGE_DTYPES: Record<string, TorchDType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};
const ITEM_BYTES: Record<TorchDType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

class StorageRef {
  readonly kind = 'storage';
  constructor(
    readonly key: string,
    readonly dtype: TorchDType,
    /** elements */
    readonly numel: number,
  ) {}
}

export class TensorRef {
  readonly kind = 'tensor';
  constructor(
    readonly storage: StorageRef,
    /** in elements */
    readonly offset: number,
    readonly shape: number[],
    /** in elements */
    readonly stride: number[],
  ) {}
}

const isInt = (v: PyValue): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const intList = (v: PyValue, what: string): number[] => {
  if (!Array.isArray(v) || !v.every(isInt))
    throw new Error(`${what} is not a tuple of non-negative integers`);
  return v as number[];
};

function rebuildTensor(args: PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error('the first argument is not a storage');
  if (!isInt(offset)) throw new Error('the storage offset is not a non-negative integer');
  const shape = intList(size, 'the size');
  const strides = intList(stride, 'the stride');
  if (shape.length !== strides.length)
    throw new Error(`size [${shape}] and stride [${strides}] differ in rank`);
  const count = numel(shape);
  const last = count === 0 ? offset : offset + shape.reduce((a, s, i) => a + (s - 1) * strides[i], 0);
  if (count > 0 && last >= storage.numel)
    throw new Error(
      `size [${shape}], stride [${strides}] and offset ${offset} reach element ${last} of a storage of ${storage.numel}`,
    );
  return new TensorRef(storage, offset, shape, strides);
}

const asTensor = (v: PyValue): TensorRef => {
  if (!(v instanceof TensorRef)) throw new Error('the data is not a tensor');
  return v;
};

/** The only callables the reader interprets; each builds data and nothing else. */
export const INTERPRETED_GLOBALS: Record<string, (args: PyValue[]) => PyValue> = {
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_parameter': (args) => asTensor(args[0]),
  'torch._utils._rebuild_parameter_with_state': (args) => asTensor(args[0]),
  'collections.OrderedDict': (args) => {
    const d = new PyDict();
    const pairs = args[0];
    if (Array.isArray(pairs))
      for (const p of pairs) if (Array.isArray(p) && typeof p[0] === 'string') d.set(p[0], p[1]);
    return d;
  },
  // how protocol 2 pickles Python 3 bytes: _codecs.encode(text, 'latin1')
  '_codecs.encode': ([s, enc]) => {
    if (typeof s !== 'string' || enc !== 'latin1') throw new Error('only latin1 text is decoded');
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  },
};

/** (storage, <class>, key, location, numel) -> a reference to `<root>/data/<key>`. */
function storageFromPersistentId(pid: PyValue): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5)
    throw new Error('unknown persistent id (expected a storage reference)');
  const [, type, key, , numel] = pid;
  const name = type instanceof PyGlobal && /^torch(\.storage)?$/.test(type.module) ? type.name : undefined;
  const dtype = name ? STORAGE_DTYPES[name] : undefined;
  if (!dtype)
    throw new Error(
      `storage of type ${type instanceof PyGlobal ? type.qualifiedName : String(type)} is not supported (float, double, half, bfloat16 and integer storages are)`,
    );
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key) || !isInt(numel))
    throw new Error('malformed storage reference');
  return new StorageRef(key, dtype, numel);
}

/** Everything a torch.save file holds, with tensors as references into the archive. */
interface TorchFile {
  root: PyValue;
  /** globals the file names that were neither interpreted nor needed (kept as inert placeholders) */
  ignoredGlobals: string[];
  littleEndian: boolean;
  archive: TorchZipArchive;
}

export async function openTorchFile(path: string): Promise<TorchFile> {
  const archive = await TorchZipArchive.open(path);
  try {
    const pkl = await archive.read('data.pkl');
    const ignored = new Set<string>();
    let root: PyValue;
    try {
      root = unpickle(pkl, {
        persistentLoad: storageFromPersistentId,
        callables: INTERPRETED_GLOBALS,
        ignoredGlobals: ignored,
      });
    } catch (e) {
      throw new Error(`${path}: ${archive.root}data.pkl: ${(e as Error).message}`, { cause: e });
    }
    let littleEndian = true;
    if (archive.has('byteorder')) {
      const order = (await archive.read('byteorder')).toString('latin1').trim();
      if (order !== 'little' && order !== 'big') throw new Error(`${path}: unknown byte order "${order}"`);
      littleEndian = order === 'little';
    }
    const storageClass = (g: string) => /^torch(\.storage)?\.\w+Storage$/.test(g);
    return {
      root,
      ignoredGlobals: [...ignored].filter((g) => !storageClass(g)).sort(),
      littleEndian,
      archive,
    };
  } catch (e) {
    archive.close();
    throw e;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Reads storages once each (tensors may share one) and gathers tensors with their strides. */
export class TensorReader {
  private readonly storages = new Map<string, Promise<Buffer>>();
  /** dtypes converted to float32, with counts, for the notes */
  readonly converted = new Map<TorchDType, number>();

  constructor(private readonly file: TorchFile) {}

  private storage(s: StorageRef): Promise<Buffer> {
    let p = this.storages.get(s.key);
    if (!p) {
      const name = `data/${s.key}`;
      const a = this.file.archive;
      const need = s.numel * ITEM_BYTES[s.dtype];
      const size = a.size(name);
      if (size === undefined)
        throw new Error(`${a.path}: storage ${a.root}${name} is missing from the archive`);
      if (size < need)
        throw new Error(
          `${a.path}: storage ${a.root}${name} holds ${size} bytes, its ${s.numel} ${s.dtype} elements need ${need}`,
        );
      p = a.read(name);
      this.storages.set(s.key, p);
    }
    return p;
  }

  /** The tensor's values in row-major order: float32 (floats converted) or its integer type. */
  async read(t: TensorRef): Promise<SafeTensor> {
    const bytes = await this.storage(t.storage);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dtype = t.storage.dtype;
    const size = ITEM_BYTES[dtype];
    const le = this.file.littleEndian;
    const get: (byteOffset: number) => number | bigint = {
      float32: (o: number) => view.getFloat32(o, le),
      float64: (o: number) => view.getFloat64(o, le),
      float16: (o: number) => halfToFloat(view.getUint16(o, le)),
      bfloat16: (o: number) => {
        scratch.setUint32(0, view.getUint16(o, le) << 16, true);
        return scratch.getFloat32(0, true);
      },
      int64: (o: number) => view.getBigInt64(o, le),
      int32: (o: number) => view.getInt32(o, le),
      int16: (o: number) => view.getInt16(o, le),
      int8: (o: number) => view.getInt8(o),
      uint8: (o: number) => view.getUint8(o),
      bool: (o: number) => view.getUint8(o),
    }[dtype];
    const n = numel(t.shape);
    let out: SafeTensor;
    if (dtype === 'int64') out = { dtype: 'I64', shape: t.shape, data: new BigInt64Array(n) };
    else if (dtype === 'int32' || dtype === 'int16' || dtype === 'int8')
      out = { dtype: 'I32', shape: t.shape, data: new Int32Array(n) };
    else if (dtype === 'uint8' || dtype === 'bool')
      out = { dtype: dtype === 'bool' ? 'BOOL' : 'U8', shape: t.shape, data: new Uint8Array(n) };
    else {
      out = { dtype: 'F32', shape: t.shape, data: new Float32Array(n) };
      if (dtype !== 'float32') this.converted.set(dtype, (this.converted.get(dtype) ?? 0) + 1);
    }
    if (dtype === 'float32' && le && isRowMajor(t)) {
      // The common case (a contiguous float32 tensor on a little-endian machine) is one copy.
      new Uint8Array(out.data.buffer).set(bytes.subarray(t.offset * 4, (t.offset + n) * 4));
      return out;
    }
    const data = out.data as { [i: number]: number | bigint };
    // Odometer over the row-major index, tracking the element offset in the storage.
    const rank = t.shape.length;
    const idx = new Array<number>(rank).fill(0);
    let src = t.offset;
    for (let i = 0; i < n; i++) {
      data[i] = get(src * size);
      for (let a = rank - 1; a >= 0; a--) {
        idx[a]++;
        src += t.stride[a];
        if (idx[a] < t.shape[a]) break;
        src -= t.stride[a] * idx[a];
        idx[a] = 0;
      }
    }
    return out;
  }
}

const scratch = new DataView(new ArrayBuffer(4));

/** Whether the strides are those of a contiguous row-major tensor (axes of length 1 may have any). */
function isRowMajor(t: TensorRef): boolean {
  let expected = 1;
  for (let a = t.shape.length - 1; a >= 0; a--) {
    if (t.shape[a] !== 1 && t.stride[a] !== expected) return false;
    expected *= t.shape[a];
  }
  return true;
}

/** What a placeholder stood for, for error messages. */
export function describePyValue(v: PyValue): string {
  if (v instanceof PyObject) return `an object built by ${v.callable}`;
  if (v instanceof PyGlobal) return `a reference to ${v.qualifiedName}`;
  if (v instanceof PyDict) return 'a dict';
  if (Array.isArray(v)) return 'a list or tuple';
  if (v instanceof Uint8Array) return 'bytes';
  if (v === null || v === undefined) return 'None';
  if (v instanceof TensorRef) return 'a tensor';
  return `a ${typeof v}`;
}
