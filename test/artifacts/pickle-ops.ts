// Hand-assembled pickles for tests: each helper is the bytes of one opcode (protocol 2).
const utf8 = (s: string) => new TextEncoder().encode(s);
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const byte = (...b: number[]) => Uint8Array.from(b);

export const pickleOps = {
  /** PROTO 2, the parts, STOP */
  pickle: (...parts: Uint8Array[]) => cat(byte(0x80, 2), ...parts, byte(0x2e)),
  cat,
  str: (s: string) => cat(byte(0x58), u32(utf8(s).length), utf8(s)),
  int: (n: number) => {
    const b = new Uint8Array(5);
    b[0] = 0x4a;
    new DataView(b.buffer).setInt32(1, n, true);
    return b;
  },
  binfloat: (x: number) => {
    const b = new Uint8Array(9);
    b[0] = 0x47;
    new DataView(b.buffer).setFloat64(1, x, false);
    return b;
  },
  global: (module: string, name: string) => cat(byte(0x63), utf8(`${module}\n${name}\n`)),
  stackGlobal: byte(0x93),
  mark: byte(0x28),
  emptyDict: byte(0x7d),
  emptyList: byte(0x5d),
  emptyTuple: byte(0x29),
  tuple: byte(0x74),
  tuple1: byte(0x85),
  tuple2: byte(0x86),
  append: byte(0x61),
  setitem: byte(0x73),
  setitems: byte(0x75),
  reduce: byte(0x52),
  newobj: byte(0x81),
  build: byte(0x62),
  false: byte(0x89),
  binpersid: byte(0x51),
};

/** os.system(command) as a pickle would call it: what a hostile checkpoint carries. */
export const osSystemCall = (command: string) =>
  cat(pickleOps.global('os', 'system'), pickleOps.str(command), pickleOps.tuple1, pickleOps.reduce);
