import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileList, readVolumeTracings } from '../../src/data/csv-files.js';
import { edFrame, esFrame } from '../../src/data/tracings.js';

describe('data/tracings + filelist: CSV parsing (docs/upstream.md#tracings)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'csv-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const H = 'FileName,X1,Y1,X2,Y2,Frame\n';

  it('keeps distinct frames in order of first appearance and rows in file order', () => {
    const p = write(
      'vt.csv',
      H + 'a.avi,1,2,3,4,30\na.avi,5,6,7,8,10\nb.avi,0,0,1,1,2\na.avi,9,9,9,9,30\na.avi,1.5,2,3,4,10\n',
    );
    const t = readVolumeTracings(p);
    expect([...t.keys()]).to.deep.equal(['a.avi', 'b.avi']);
    const a = t.get('a.avi')!;
    expect(a.frames).to.deep.equal([30, 10]);
    expect(a.rows.get(30)).to.deep.equal([
      [1, 2, 3, 4],
      [9, 9, 9, 9],
    ]);
    expect(a.rows.get(10)).to.deep.equal([
      [5, 6, 7, 8],
      [1.5, 2, 3, 4],
    ]);
    // ES = first listed ("small_trace"), ED = last listed ("large_trace"), no area check.
    expect(esFrame(a)).to.equal(30);
    expect(edFrame(a)).to.equal(10);
  });

  it('accepts CRLF line ends and a trailing blank line', () => {
    const t = readVolumeTracings(write('crlf.csv', H.replace('\n', '\r\n') + 'a.avi,1,2,3,4,5\r\n\r\n'));
    expect(t.get('a.avi')!.rows.get(5)).to.deep.equal([[1, 2, 3, 4]]);
  });

  it('rejects a header that is not exactly FileName,X1,Y1,X2,Y2,Frame, naming file and line 1', () => {
    const p = write('hdr.csv', 'FileName,X1,Y1,X2,Y2,frame\n');
    expect(() => readVolumeTracings(p)).to.throw(`${p}:1: header must be exactly`);
  });

  it('names file, line and column of a malformed number', () => {
    const p = write('num.csv', H + 'a.avi,1,2,3,4,5\na.avi,1,2,x3.5,4,5\n');
    expect(() => readVolumeTracings(p)).to.throw(`${p}:3: column X2: "x3.5" is not a number`);
    const q = write('frame.csv', H + 'a.avi,1,2,3,4,5.0\n');
    expect(() => readVolumeTracings(q)).to.throw(`${q}:2: column Frame: "5.0" is not an integer`);
    const r = write('empty.csv', H + 'a.avi,1,,3,4,5\n');
    expect(() => readVolumeTracings(r)).to.throw(`${r}:2: column Y1`);
    const s = write('fields.csv', H + 'a.avi,1,2,3,4\n');
    expect(() => readVolumeTracings(s)).to.throw(`${s}:2: expected 6 comma-separated fields, found 5`);
    const n = write('neg.csv', H + 'a.avi,1,2,3,4,-1\n');
    expect(() => readVolumeTracings(n)).to.throw(`${n}:2: column Frame: -1 is negative`);
  });

  const FL = 'FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split\n';

  it('reads FileList.csv rows with their line numbers', () => {
    const p = write('fl.csv', FL + 'v1,60.5,20,50.5,112,112,50,120,TRAIN\nv2,55,1,2,112,112,49.9,80,VAL\n');
    const rows = readFileList(p);
    expect(rows).to.have.length(2);
    expect(rows[0]).to.deep.equal({
      fileName: 'v1',
      ef: 60.5,
      esv: 20,
      edv: 50.5,
      frameHeight: 112,
      frameWidth: 112,
      fps: 50,
      numberOfFrames: 120,
      split: 'TRAIN',
      line: 2,
    });
    expect(rows[1].fps).to.equal(49.9);
  });

  it('finds FileList columns by name and names a missing one', () => {
    const p = write(
      'order.csv',
      'Split,FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames\nTEST,v,1,2,3,112,112,50,10\n',
    );
    expect(readFileList(p)[0]).to.include({ fileName: 'v', split: 'TEST', numberOfFrames: 10 });
    const q = write('nocol.csv', 'FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,Split\n');
    expect(() => readFileList(q)).to.throw(`${q}:1: header lacks column NumberOfFrames`);
  });

  it('names file, line and column of a malformed FileList number', () => {
    const p = write(
      'flbad.csv',
      FL + 'v1,60,20,50,112,112,50,120,TRAIN\nv2,abc,20,50,112,112,50,120,TRAIN\n',
    );
    expect(() => readFileList(p)).to.throw(`${p}:3: column EF: "abc" is not a number`);
    const q = write('flint.csv', FL + 'v1,60,20,50,112.5,112,50,120,TRAIN\n');
    expect(() => readFileList(q)).to.throw(`${q}:2: column FrameHeight: "112.5" is not an integer`);
  });
});
