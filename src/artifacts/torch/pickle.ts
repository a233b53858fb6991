// A pickle reader that never executes anything. Python's unpickler calls whatever callable the
// stream names (a checkpoint can name os.system); this one only builds data. Globals are
// references (PyGlobal); calling one (REDUCE, NEWOBJ) runs a JavaScript handler only when the
// caller registered one for that exact name, and otherwise yields an inert PyObject that records
// what would have been called with which arguments. Covers the opcodes of protocols 0-4 that
// torch.save and Python's pickler emit for dicts, lists, tuples, numbers, strings, bytes and
// objects (docs/torch-checkpoints.md).

/** A module-level name the stream refers to (GLOBAL / STACK_GLOBAL); never resolved to code. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The inert stand-in for an object the reader does not interpret: what was called, with what, and what was set on it. */
export class PyObject {
  /** BUILD state, if any */
  state: PyValue = undefined;
  /** SETITEM(S) on a dict subclass */
  readonly dictItems = new Map<PyKey, PyValue>();
  /** APPEND(S) on a list subclass */
  readonly listItems: PyValue[] = [];
  constructor(
    /** the callable or class, as `module.name` (or a description when it is not a global) */
    readonly callable: string,
    readonly args: PyValue[],
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;
/** dict; keys that are not primitives (e.g. tuples) are stored under a description of them */
export class PyDict extends Map<PyKey, PyValue> {}

export type PyValue =
  | undefined
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyDict
  | PyGlobal
  | PyObject
  // whatever a registered handler or persistentLoad returns
  | { readonly kind: string };

export interface UnpickleOptions {
  /** BINPERSID / PERSID: the object a persistent id stands for */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** handlers for the few callables the caller interprets, by `module.name` */
  callables?: Record<string, (args: PyValue[]) => PyValue>;
  /** names of every global the stream mentioned that no handler interprets */
  ignoredGlobals?: Set<string>;
}

class UnpicklingError extends Error {}

const MARK = Symbol('mark');

function describeKey(k: PyValue): PyKey {
  if (k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k)) return k as PyKey;
  if (Array.isArray(k)) return `(${k.map((x) => String(describeKey(x))).join(', ')})`;
  if (k instanceof PyGlobal) return k.qualifiedName;
  return `<${k instanceof PyObject ? k.callable : typeof k} object>`;
}

/** Python's int from little-endian two's-complement bytes, as a number when it is exact. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Reads one pickle from `data` and returns the object it describes. */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): PyValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: (PyValue | typeof MARK)[] = [];
  const memo = new Map<number, PyValue>();
  const callables = options.callables ?? {};
  let pos = 0;
  let opPos = 0;

  const fail = (message: string): never => {
    throw new UnpicklingError(`pickle: ${message} (opcode at byte ${opPos})`);
  };
  const need = (n: number) => {
    if (pos + n > data.length) fail(`truncated: needs ${n} more bytes at byte ${pos} of ${data.length}`);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = () => bytes(1)[0];
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) fail(`length ${v} exceeds the pickle`);
    return Number(v);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated: missing end of line');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('invalid UTF-8 in a string');
    }
  };

  const pop = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack.pop()!;
    if (v === MARK) fail('unexpected MARK');
    return v as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack[stack.length - 1];
    if (v === MARK) fail('unexpected MARK');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('no MARK on the stack');
    const items = stack.splice(at) as PyValue[];
    items.shift();
    return items;
  };
  const memoGet = (i: number): PyValue => {
    if (!memo.has(i)) fail(`memo entry ${i} was never stored`);
    return memo.get(i);
  };
  const global = (module: string, name: string): PyGlobal => {
    const g = new PyGlobal(module, name);
    if (!(g.qualifiedName in callables)) options.ignoredGlobals?.add(g.qualifiedName);
    return g;
  };
  /** REDUCE / NEWOBJ: a registered handler, or an inert record of the call. */
  const call = (f: PyValue, args: PyValue): PyValue => {
    if (!Array.isArray(args)) fail('call arguments are not a tuple');
    const list = args as PyValue[];
    if (f instanceof PyGlobal) {
      const handler = callables[f.qualifiedName];
      if (handler) {
        try {
          return handler(list);
        } catch (e) {
          return fail(`${f.qualifiedName}: ${(e as Error).message}`);
        }
      }
      return new PyObject(f.qualifiedName, list);
    }
    return new PyObject(`<call of ${f instanceof PyObject ? f.callable : typeof f}>`, list);
  };
  const setItems = (target: PyValue, items: PyValue[]) => {
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    const dict = target instanceof PyDict ? target : target instanceof PyObject ? target.dictItems : null;
    if (!dict) fail(`SETITEM on a ${typeof target}, not a dict`);
    for (let i = 0; i < items.length; i += 2) dict!.set(describeKey(items[i]), items[i + 1]);
  };
  const append = (target: PyValue, items: PyValue[]) => {
    const list = Array.isArray(target) ? target : target instanceof PyObject ? target.listItems : null;
    if (!list) fail(`APPEND on a ${typeof target}, not a list`);
    list!.push(...items);
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!options.persistentLoad) fail('a persistent id, but no persistent loader');
    try {
      return options.persistentLoad!(pid);
    } catch (e) {
      return fail((e as Error).message);
    }
  };

  for (;;) {
    opPos = pos;
    if (pos >= data.length) fail('truncated: no STOP opcode');
    const op = data[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME (a length hint only)
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) stack.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text): "01"/"00" are True/False in protocol 0
        const s = line();
        if (s === '01' || s === '00') stack.push(s === '01');
        else if (/^[-+]?\d+$/.test(s)) stack.push(decodeText(s));
        else fail(`bad INT "${s}"`);
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[-+]?\d+$/.test(s)) fail(`bad LONG "${s}"`);
        stack.push(decodeText(s));
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const v = Number(line());
        if (Number.isNaN(v)) fail('bad FLOAT');
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(bytes(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x8f: // EMPTY_SET (kept as a list of its members)
        stack.push([]);
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number(line())));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX (keyword arguments are recorded as a last argument)
        const kwargs = pop();
        const args = pop();
        const f = pop();
        stack.push(call(f, Array.isArray(args) ? [...args, kwargs] : args));
        break;
      }
      case 0x69: {
        // INST (protocol 0 object creation)
        const module = line();
        const g = global(module, line());
        stack.push(call(g, popMark()));
        break;
      }
      case 0x6f: {
        // OBJ
        const items = popMark();
        if (items.length === 0) fail('OBJ without a class');
        stack.push(call(items[0], items.slice(1)));
        break;
      }
      case 0x62: {
        // BUILD: state goes on placeholders; dicts keep their items (OrderedDict's _metadata is dropped)
        const state = pop();
        const target = top();
        if (target instanceof PyObject) target.state = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x50: // PERSID (text)
        stack.push(persistent(line()));
        break;
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

function decodeText(s: string): number | bigint {
  const v = BigInt(s);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
