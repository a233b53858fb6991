import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inversePermutation, permuteArray } from '../../src/artifacts/checkpoint.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type SafeTensor,
} from '../../src/artifacts/safetensors.js';
import { numel } from '../../src/onnx/ir.js';

/** Reference transpose by explicit index arithmetic. */
function naiveTranspose(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const out = new Float32Array(x.length);
  const strides = shape.map((_, i) => numel(shape.slice(i + 1)));
  for (let o = 0; o < out.length; o++) {
    let rest = o;
    let src = 0;
    for (let a = outShape.length - 1; a >= 0; a--) {
      const idx = rest % outShape[a];
      rest = Math.floor(rest / outShape[a]);
      src += idx * strides[perm[a]];
    }
    out[o] = x[src];
  }
  return out;
}

describe('safetensors (our own reader/writer)', () => {
  const tensors = new Map<string, SafeTensor>([
    ['a.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, -6.5) }],
    ['b.count', { dtype: 'I64', shape: [], data: BigInt64Array.of(123456789012n) }],
    ['c.bytes', { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 7, 255) }],
    ['d.double', { dtype: 'F64', shape: [1, 1], data: Float64Array.of(Math.PI) }],
    ['e.int', { dtype: 'I32', shape: [2], data: Int32Array.of(-1, 2) }],
  ]);

  it('lays out the file as the format says: LE header length, 8-aligned JSON header, packed data', () => {
    const bytes = encodeSafetensors({ tensors, metadata: { step: '3' } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).to.equal(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
    expect(header.__metadata__).to.deep.equal({ step: '3' });
    expect(header['a.weight']).to.deep.equal({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header['b.count'].data_offsets).to.deep.equal([24, 32]);
    expect(bytes.length).to.equal(8 + n + 24 + 8 + 3 + 8 + 8);
    expect(new Float32Array(bytes.slice(8 + n, 8 + n + 24).buffer)[5]).to.equal(-6.5);
  });

  it('round-trips every dtype and the metadata, and re-writes to identical bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    try {
      const path = join(dir, 'x.safetensors');
      writeSafetensors(path, tensors, { format: 'pt', note: 'é ü' });
      const back = readSafetensors(path);
      expect([...back.tensors.keys()]).to.deep.equal([...tensors.keys()]);
      for (const [k, t] of tensors) {
        expect(back.tensors.get(k)!.dtype).to.equal(t.dtype);
        expect(back.tensors.get(k)!.shape).to.deep.equal(t.shape);
        expect(Array.from(back.tensors.get(k)!.data as ArrayLike<unknown>)).to.deep.equal(
          Array.from(t.data as ArrayLike<unknown>),
        );
      }
      expect(back.metadata).to.deep.equal({ format: 'pt', note: 'é ü' });
      expect(Buffer.from(encodeSafetensors(back)).equals(readFileSync(path))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects truncated files, inconsistent offsets and mismatched data', () => {
    const bytes = encodeSafetensors({ tensors, metadata: {} });
    expect(() => decodeSafetensors(bytes.subarray(0, 5))).to.throw(/shorter/);
    expect(() => decodeSafetensors(bytes.subarray(0, 40))).to.throw(/header/);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4))).to.throw(/do not fit/);
    const bad = new Map([['x', { dtype: 'F32' as const, shape: [3], data: Float32Array.of(1, 2) }]]);
    expect(() => encodeSafetensors({ tensors: bad, metadata: {} })).to.throw(/2 values for shape \[3\]/);
  });

  it('permuteArray transposes like numpy, and the inverse permutation undoes it', () => {
    const shape = [2, 3, 4, 5, 3];
    const x = Float32Array.from({ length: 360 }, (_, i) => i);
    for (const perm of [
      [0, 1, 4, 2, 3],
      [0, 1, 3, 4, 2],
      [4, 3, 2, 1, 0],
      [0, 1, 2, 3, 4],
    ]) {
      const y = permuteArray(x, shape, perm);
      expect(Array.from(y)).to.deep.equal(Array.from(naiveTranspose(x, shape, perm)));
      expect(
        Array.from(
          permuteArray(
            y,
            perm.map((p) => shape[p]),
            inversePermutation(perm),
          ),
        ),
      ).to.deep.equal(Array.from(x));
    }
  });
});
