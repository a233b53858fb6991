import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PyDict, PyGlobal, PyObject, unpickle, type PyValue } from '../../src/artifacts/torch/pickle.js';
import { INTERPRETED_GLOBALS } from '../../src/artifacts/torch/torch-file.js';
import { tempDirs } from '../helpers/tmp.js';
import { osSystemCall, pickleOps as op } from './pickle-ops.js';

const FIXTURES = 'test/fixtures/torch-checkpoints';
const tmp = tempDirs('pickle');

describe('pickle reader (never executes)', () => {
  for (const protocol of [2, 4]) {
    it(`reads the values Python pickled with protocol ${protocol}`, () => {
      const v = unpickle(readFileSync(join(FIXTURES, `values-p${protocol}.pkl`)), {
        callables: INTERPRETED_GLOBALS,
      }) as PyDict;
      expect(v).to.be.instanceOf(PyDict);
      expect(v.get('small')).to.equal(5);
      expect(v.get('int2')).to.equal(300);
      expect(v.get('neg')).to.equal(-70000);
      expect(v.get('big')).to.equal(2n ** 70n);
      expect(v.get('negbig')).to.equal(-(2n ** 65n));
      expect(v.get('float')).to.equal(0.1);
      expect(v.get('text')).to.equal('h\u00e9llo');
      expect(v.get('long_text')).to.equal('x'.repeat(300));
      expect(v.get('list')).to.deep.equal([1, [2, 3], []]);
      expect(v.get('tuple')).to.deep.equal([1, 'a', null, true, false]);
      expect(Array.from(v.get('bytes') as Uint8Array)).to.deep.equal([0, 255, 97, 98]);
      const ordered = v.get('ordered') as PyDict;
      expect(ordered).to.be.instanceOf(PyDict);
      expect([...ordered]).to.deep.equal([
        ['a', 1],
        ['b', 2],
      ]);
      // the memo gives back the same object for a value pickled twice
      const [a, b] = v.get('shared') as PyValue[][];
      expect(a).to.deep.equal([7, 8]);
      expect(a).to.equal(b);
    });
  }

  it('keeps an uninterpreted global as an inert record of the call (os.system via GLOBAL and REDUCE, eval via STACK_GLOBAL and NEWOBJ)', () => {
    const dir = tmp('marker');
    const marker = join(dir, 'pwned');
    const payload = op.pickle(
      op.emptyDict,
      op.mark,
      op.str('sys'),
      osSystemCall(`touch ${marker}`),
      op.str('eval'),
      op.str('builtins'),
      op.str('eval'),
      op.stackGlobal,
      op.str(`open(${JSON.stringify(marker)}, "w")`),
      op.tuple1,
      op.newobj,
      op.str('sub'),
      op.global('subprocess', 'check_call'),
      op.mark,
      op.emptyList,
      op.str('touch'),
      op.append,
      op.str(marker),
      op.append,
      op.tuple,
      op.reduce,
      op.emptyDict,
      op.build,
      op.setitems,
    );
    const ignored = new Set<string>();
    const v = unpickle(payload, { ignoredGlobals: ignored }) as PyDict;
    const sys = v.get('sys') as PyObject;
    expect(sys).to.be.instanceOf(PyObject);
    expect(sys.callable).to.equal('os.system');
    expect(sys.args).to.deep.equal([`touch ${marker}`]);
    expect((v.get('eval') as PyObject).callable).to.equal('builtins.eval');
    expect((v.get('sub') as PyObject).args).to.deep.equal([['touch', marker]]);
    expect([...ignored].sort()).to.deep.equal(['builtins.eval', 'os.system', 'subprocess.check_call']);
    expect(existsSync(marker), 'the marker file must not exist').to.equal(false);
  });

  it('keeps a global that is only referenced as a PyGlobal, and records BUILD state and items on placeholders', () => {
    const v = unpickle(
      op.pickle(
        op.global('argparse', 'Namespace'),
        op.emptyTuple,
        op.newobj,
        op.mark,
        op.str('lr'),
        op.binfloat(0.5),
        op.setitems,
        op.emptyDict,
        op.str('epochs'),
        op.int(60),
        op.setitem,
        op.build,
        op.global('torch', 'FloatStorage'),
        op.tuple2,
      ),
    ) as PyValue[];
    const [ns, g] = v as [PyObject, PyGlobal];
    expect(ns.callable).to.equal('argparse.Namespace');
    expect([...ns.dictItems]).to.deep.equal([['lr', 0.5]]);
    expect([...(ns.state as PyDict)]).to.deep.equal([['epochs', 60]]);
    expect(g).to.be.instanceOf(PyGlobal);
    expect(g.qualifiedName).to.equal('torch.FloatStorage');
  });

  it('rejects truncated pickles, unknown opcodes and memo misses with the byte position', () => {
    const good = op.pickle(op.str('abc'));
    expect(() => unpickle(good.subarray(0, good.length - 1))).to.throw(/truncated: no STOP/);
    expect(() => unpickle(good.subarray(0, 5))).to.throw(/truncated: needs 4 more bytes at byte 3/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0xff, 0x2e]))).to.throw(
      /unsupported opcode 0xff \(opcode at byte 2\)/,
    );
    expect(() => unpickle(op.pickle(Uint8Array.of(0x68, 9)))).to.throw(/memo entry 9 was never stored/);
    expect(() => unpickle(op.pickle(op.setitems))).to.throw(/no MARK/);
  });
});
