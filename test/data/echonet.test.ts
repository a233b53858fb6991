import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEchoNet, subsample } from '../../src/data/echonet.js';
import { makeEchoNetMini } from '../fixtures/echonet-mini/make.js';

const V = (n: number) => `0X1A0000000000000${n}.avi`;

describe('data/echonet: video list of a split (docs/upstream.md#video-list)', function () {
  let root: string;
  let cleanup: () => void;
  before(async () => ({ root, cleanup } = await makeEchoNetMini()));
  after(() => cleanup());

  /** A fresh copy of a fixture CSV, edited, written back; restored after the test. */
  const saved = new Map<string, string>();
  const edit = (file: string, change: (text: string) => string) => {
    const p = join(root, file);
    if (!saved.has(p)) saved.set(p, readFileSync(p, 'utf8'));
    writeFileSync(p, change(readFileSync(p, 'utf8')));
  };
  afterEach(() => {
    for (const [p, text] of saved) writeFileSync(p, text);
    saved.clear();
  });

  it('keeps the requested split (any case), appends .avi, drops videos with < 2 traced frames', () => {
    const train = openEchoNet(root, 'train');
    // ...05 has one traced frame, ...06 none: both dropped like upstream.
    expect(train.map((v) => v.fileName)).to.deep.equal([V(1), V(2)]);
    expect(openEchoNet(root, 'Val').map((v) => v.fileName)).to.deep.equal([V(3)]);
    expect(openEchoNet(root, 'TEST').map((v) => v.fileName)).to.deep.equal([V(4)]);
    expect(openEchoNet(root, 'all').map((v) => v.fileName)).to.deep.equal([V(1), V(2), V(3), V(4)]);
    expect(openEchoNet(root, 'nonsense')).to.deep.equal([]);
  });

  it('names ES the first traced frame listed and ED the last, with their rows', () => {
    const [a, b] = openEchoNet(root, 'train');
    expect([a.esFrame, a.edFrame, b.esFrame, b.edFrame]).to.deep.equal([12, 40, 30, 5]);
    expect(a.esRows).to.have.length(21);
    expect(a.edRows).to.have.length(21);
    expect(a.esRows[0]).to.deep.equal([56, 28, 56, 72]); // the long axis, as in the CSV
    expect(a.path).to.equal(join(root, 'Videos', V(1)));
    expect(a.row).to.include({ fileName: '0X1A00000000000001', numberOfFrames: 60, split: 'TRAIN' });
  });

  it('matches the split column case-sensitively, like upstream', () => {
    edit('FileList.csv', (t) => t.replace('50,45,TRAIN', '50,45,train'));
    expect(openEchoNet(root, 'train').map((v) => v.fileName)).to.deep.equal([V(1)]);
  });

  it('fails on missing videos, listing their names', () => {
    const p = join(root, 'Videos', V(2));
    const bytes = readFileSync(p);
    rmSync(p);
    try {
      expect(() => openEchoNet(root, 'train')).to.throw(
        `1 video(s) listed in ${join(root, 'FileList.csv')} are missing: ${V(2)}`,
      );
      expect(openEchoNet(root, 'test')).to.have.length(1); // other splits are unaffected
    } finally {
      writeFileSync(p, bytes);
    }
  });

  /** The problems reported while opening `split`, as "file | problem". */
  const reported = (split: string, strict = false) => {
    const bad: string[] = [];
    const videos = openEchoNet(root, split, { onBadItem: (f, p) => bad.push(`${f} | ${p}`), strict });
    return { names: videos.map((v) => v.fileName), bad };
  };
  const tracings = () => join(root, 'VolumeTracings.csv');
  const list = () => join(root, 'FileList.csv');
  const DROPPED_05_06 = () => [
    `${tracings()} | line 170: ${V(5)} left out: its tracings have one distinct frame (8); ED and ES need two`,
    `${tracings()} | ${V(6)} left out: it has no tracings`,
  ];

  it('names the videos left out for fewer than two traced frames (upstream drops them silently)', () => {
    expect(reported('train')).to.deep.equal({ names: [V(1), V(2)], bad: DROPPED_05_06() });
    expect(reported('train', true)).to.deep.equal({ names: [V(1), V(2)], bad: DROPPED_05_06() });
  });

  it('reports a tracing of a file FileList.csv does not list, never as an error (upstream ignores it)', () => {
    edit('VolumeTracings.csv', (t) => t + 'ghost.avi,1,2,3,4,5\nghost.avi,1,2,3,4,6\n');
    expect(openEchoNet(root, 'train')).to.have.length(2);
    expect(reported('test').bad).to.deep.equal([
      `${tracings()} | line 191: tracing of "ghost.avi", which ${list()} does not list`,
    ]);
  });

  it('a video listed but missing on disk is named and skipped; --strict stops with the list', () => {
    const p = join(root, 'Videos', V(2));
    const bytes = readFileSync(p);
    rmSync(p);
    try {
      expect(reported('train')).to.deep.equal({
        names: [V(1)],
        bad: [`${p} | no such file (listed in ${list()} line 3)`, ...DROPPED_05_06()],
      });
      expect(() => reported('train', true)).to.throw(`1 video(s) listed in ${list()} are missing: ${V(2)}`);
    } finally {
      writeFileSync(p, bytes);
    }
  });

  it('a malformed number in VolumeTracings.csv leaves out only its video, named with line and column', () => {
    edit('VolumeTracings.csv', (t) =>
      t.replace('0X1A00000000000002.avi,54.0000,36.0000', '0X1A00000000000002.avi,54.0000,36.00.00'),
    );
    const r = reported('train');
    expect(r.names).to.deep.equal([V(1)]);
    expect(r.bad).to.have.length(3);
    expect(r.bad[0]).to.match(
      new RegExp(
        `^${tracings()} \\| line \\d+: ${V(2)} left out: column Y1: "36\\.00\\.00" is not a number$`,
      ),
    );
    expect(reported('test')).to.deep.equal({ names: [V(4)], bad: [] }); // other splits are unaffected
    expect(() => reported('train', true)).to.throw(
      /VolumeTracings\.csv:\d+: column Y1: "36\.00\.00" is not a number/,
    );
  });

  it('a malformed number in FileList.csv leaves out only its video, named with line and column', () => {
    edit('FileList.csv', (t) => t.replace('0X1A00000000000002,68.25', '0X1A00000000000002,6B.25'));
    const r = reported('train');
    expect(r.names).to.deep.equal([V(1)]);
    expect(r.bad[0]).to.equal(
      `${list()} | line 3: 0X1A00000000000002 left out: column EF: "6B.25" is not a number`,
    );
    expect(reported('val').bad).to.deep.equal([]); // a TRAIN row is no problem of the val split
    expect(() => reported('train', true)).to.throw(`${list()}:3: column EF: "6B.25" is not a number`);
  });

  it('drops FileList names that already have an extension (upstream) and says so', () => {
    edit('FileList.csv', (t) => t.replace('0X1A00000000000002,', '0X1A00000000000002.avi,'));
    const { names, bad } = reported('train');
    expect(names).to.deep.equal([V(1)]);
    expect(bad).to.have.length(3);
    expect(bad[0]).to.match(/ \| line 3: FileName "0X1A00000000000002.avi" has an extension/);
  });

  it('rejects a video whose FileList frame size is not 112x112, naming file and line', () => {
    edit('FileList.csv', (t) =>
      t.replace(
        '0X1A00000000000002,68.25,241.27,760.01,112,112',
        '0X1A00000000000002,68.25,241.27,760.01,128,112',
      ),
    );
    const list = join(root, 'FileList.csv');
    expect(() => openEchoNet(root, 'train')).to.throw(
      `${list}:3: ${V(2)} is 112x128, the models need 112x112 frames`,
    );
    const r = reported('train');
    expect(r.names).to.have.length(1);
    expect(r.bad.filter((b) => b.startsWith(list))).to.deep.equal([
      `${list} | line 3: ${V(2)} is 112x128, the models need 112x112 frames`,
    ]);
  });

  it('names file, line and column of a malformed number in FileList.csv', () => {
    edit('FileList.csv', (t) => t.replace(',50,60,TRAIN', ',50,6O,TRAIN'));
    expect(() => openEchoNet(root, 'train')).to.throw(
      `${join(root, 'FileList.csv')}:2: column NumberOfFrames: "6O" is not an integer`,
    );
  });

  it('names file, line and column of a malformed number in VolumeTracings.csv', () => {
    edit('VolumeTracings.csv', (t) =>
      t.replace('0X1A00000000000002.avi,54.0000,36.0000', '0X1A00000000000002.avi,54.0000,36.00.00'),
    );
    expect(() => openEchoNet(root, 'train')).to.throw(
      /VolumeTracings\.csv:\d+: column Y1: "36\.00\.00" is not a number/,
    );
  });

  it('subsamples round_half_up(n * pct) videos with a seed (--pct_train)', () => {
    const all = openEchoNet(root, 'all');
    expect(openEchoNet(root, 'all', { pctTrain: 0.5 })).to.have.length(2);
    expect(openEchoNet(root, 'all', { pctTrain: 0.625 })).to.have.length(3); // 2.5 rounds up
    expect(openEchoNet(root, 'all', { pctTrain: 1 }).map((v) => v.fileName)).to.deep.equal(
      all.map((v) => v.fileName),
    );
    const items = Array.from({ length: 100 }, (_, i) => i);
    const a = subsample(items, 0.3, 42);
    expect(a).to.have.length(30);
    expect(subsample(items, 0.3, 42)).to.deep.equal(a);
    expect(subsample(items, 0.3, 43)).to.not.deep.equal(a);
    expect(subsample(items, 0.125, 1)).to.have.length(13); // 12.5 -> 13
    expect(() => subsample(items, 0, 1)).to.throw('(0, 1]');
  });

  it('fails clearly without FileList.csv or without a Videos folder', () => {
    expect(() => openEchoNet(join(root, 'nowhere'), 'train')).to.throw('FileList.csv');
    const bare = mkdtempSync(join(tmpdir(), 'echonet-bare-'));
    try {
      copyFileSync(join(root, 'FileList.csv'), join(bare, 'FileList.csv'));
      expect(() => openEchoNet(bare, 'train')).to.throw(`${join(bare, 'Videos')}: no such folder`);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
