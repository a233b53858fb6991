/**
 * PALETTE COLOR lookup tables (PS3.3 C.7.6.3.1.5-6 and C.7.9): a descriptor per channel (number of
 * entries, 0 meaning 65536; the first index mapped; 8 or 16 bits per entry) and the entries, either
 * listed (0028,1201-1203) or segmented (0028,1221-1223: discrete, linear and indirect segments).
 * Each channel becomes a table from the pixel's index word to 8 bits (16-bit entries: the high byte).
 */
import type { DataSet, Element } from 'dicom-parser';
import { storedValue } from './pixels.js';

const CHANNELS = [
  { name: 'Red', descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  { name: 'Green', descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  { name: 'Blue', descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
];

/** The element's value bytes, 16-bit words in little-endian order whatever the file's byte order. */
function littleEndianBytes(ds: DataSet, el: Element, bigEndian: boolean): Uint8Array {
  const raw = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  if (!bigEndian) return raw;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    out[i] = raw[i + 1];
    out[i + 1] = raw[i];
  }
  return out;
}

const words = (b: Uint8Array): number[] =>
  Array.from({ length: b.length >> 1 }, (_, i) => b[2 * i] | (b[2 * i + 1] << 8));

/**
 * Expands segmented LUT data (values as 8-bit bytes or 16-bit words, as the descriptor's entry
 * size says). An indirect segment's offset counts bytes from the start of the data.
 */
export function expandSegmented(data: number[], entryBytes: 1 | 2): number[] {
  const lut: number[] = [];
  let at = 0;
  const segment = (): void => {
    const opcode = data[at];
    const length = data[at + 1];
    if (length === undefined) throw new Error('segment cut short');
    at += 2;
    if (opcode === 0) {
      if (at + length > data.length) throw new Error('discrete segment cut short');
      for (let i = 0; i < length; i++) lut.push(data[at + i]);
      at += length;
    } else if (opcode === 1) {
      if (!lut.length) throw new Error('a linear segment cannot come first');
      const y0 = lut[lut.length - 1];
      const y1 = data[at++];
      for (let i = 1; i <= length; i++) lut.push(Math.round(y0 + ((y1 - y0) * i) / length));
    } else if (opcode === 2) {
      if (!lut.length) throw new Error('an indirect segment cannot come first');
      const offset =
        entryBytes === 2
          ? (data[at] | (data[at + 1] << 16)) / 2
          : (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
      at += entryBytes === 2 ? 2 : 4;
      const resume = at;
      at = offset;
      for (let s = 0; s < length; s++) {
        if (data[at] === 2) throw new Error('an indirect segment points to another');
        segment();
      }
      at = resume;
    } else throw new Error(`unknown segment type ${opcode}`);
  };
  // A trailing pad value (odd byte counts) is not a segment.
  while (at + 1 < data.length) segment();
  return lut;
}

/** One channel's entries as the data set holds them (listed or segmented), and its entry size in bits. */
function channelEntries(
  ds: DataSet,
  c: (typeof CHANNELS)[number],
  count: number,
  bits: number,
  bigEndian: boolean,
): number[] {
  const listed = ds.elements[c.data];
  const segmented = ds.elements[c.segmented];
  if (listed) {
    const b = littleEndianBytes(ds, listed, bigEndian);
    // 8-bit entries are packed two to a word; some writers put each in a word of its own.
    if (bits === 8 && b.length < 2 * count) return Array.from(b.subarray(0, count));
    const w = words(b).slice(0, count);
    return bits === 8 && w.some((x) => x > 255) ? w.map((x) => x >> 8) : w;
  }
  if (segmented) {
    const b = littleEndianBytes(ds, segmented, bigEndian);
    try {
      return expandSegmented(bits === 8 ? Array.from(b) : words(b), bits === 8 ? 1 : 2);
    } catch (e) {
      throw new Error(`segmented ${c.name} palette: ${(e as Error).message}`, { cause: e });
    }
  }
  throw new Error(
    `no ${c.name} palette data (0028,12${c.data.slice(-2)} or 0028,12${c.segmented.slice(-2)})`,
  );
}

/**
 * The three channel tables of a PALETTE COLOR image with `bitsStored`-bit indices: for each index
 * word, the 8-bit output. Indices below the first mapped value take the first entry, above the
 * last the last (PS3.3 C.7.6.3.1.5). Throws with a short reason when the tables are unusable.
 */
export function paletteTables(
  ds: DataSet,
  f: { bitsAllocated: number; bitsStored: number; signed: boolean },
  bigEndian: boolean,
): [Uint8Array, Uint8Array, Uint8Array] {
  return CHANNELS.map((c) => {
    if (!ds.elements[c.descriptor])
      throw new Error(`no ${c.name} palette descriptor (0028,${c.descriptor.slice(-4)})`);
    const count = ds.uint16(c.descriptor, 0) || 65536;
    const rawFirst = ds.uint16(c.descriptor, 1) ?? 0;
    const first = f.signed ? storedValue(rawFirst, 16, true) : rawFirst;
    const bits = ds.uint16(c.descriptor, 2) ?? 16;
    if (bits !== 8 && bits !== 16)
      throw new Error(`${c.name} palette entries of ${bits} bits (8 or 16 expected)`);
    const entries = channelEntries(ds, c, count, bits, bigEndian);
    if (entries.length < count)
      throw new Error(`${c.name} palette holds ${entries.length} entries, its descriptor says ${count}`);
    const table = new Uint8Array(f.bitsAllocated === 8 ? 256 : 65536);
    for (let word = 0; word < table.length; word++) {
      const index = storedValue(word, f.bitsStored, f.signed) - first;
      const e = entries[index < 0 ? 0 : index >= count ? count - 1 : index];
      table[word] = bits === 16 ? e >> 8 : e;
    }
    return table;
  }) as [Uint8Array, Uint8Array, Uint8Array];
}
