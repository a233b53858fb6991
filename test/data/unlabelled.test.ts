import { expect } from 'chai';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openEchoNet } from '../../src/data/echonet.js';
import { HOLD_OUT_SHARE, openSslVideos } from '../../src/data/unlabelled.js';
import { makeEchoNetMini } from '../fixtures/echonet-mini/make.js';
import { tempDirs } from '../helpers/tmp.js';

const V = (n: number) => `0X1A0000000000000${n}.avi`;
const names = (vs: { fileName: string }[]) => vs.map((v) => v.fileName);

describe('data/unlabelled: the videos of an SSL run without tracings', function () {
  const tmp = tempDirs('unilvseg-unlabelled');
  let root: string;
  let cleanup: () => void;
  before(async () => ({ root, cleanup } = await makeEchoNetMini()));
  after(() => cleanup());

  /** A folder of `count` copies of the fixture's first video in two subfolders, plus a CSV. */
  function pool(count: number): string {
    const dir = tmp('pool');
    mkdirSync(join(dir, 'b'));
    for (let i = 0; i < count; i++)
      copyFileSync(join(root, 'Videos', V(1)), join(dir, i % 2 ? 'b' : '', `clip${i}.avi`));
    writeFileSync(join(dir, 'notes.csv'), 'not a video\n');
    return dir;
  }

  it("an EchoNet root with tracings gives upstream's traced videos of TRAIN and VAL", () => {
    const { train, val } = openSslVideos(root, undefined);
    expect(names(train.videos)).to.deep.equal(names(openEchoNet(root, 'train')));
    expect(names(val.videos)).to.deep.equal([V(3)]);
    expect(train.cacheDir).to.equal(join(root, '.unilvseg-cache'));
  });

  it('without VolumeTracings.csv every listed video of the split trains, untraced ones included', () => {
    const dir = tmp('notrace');
    copyFileSync(join(root, 'FileList.csv'), join(dir, 'FileList.csv'));
    mkdirSync(join(dir, 'Videos'));
    for (const f of readdirSync(join(root, 'Videos')))
      copyFileSync(join(root, 'Videos', f), join(dir, 'Videos', f));
    const { train, val } = openSslVideos(dir, undefined);
    // ...05 and ...06 have fewer than two traced frames: upstream's weak list leaves them out, a pool keeps them
    expect(names(train.videos)).to.deep.equal([V(1), V(2), V(5), V(6)]);
    expect(train.videos[0].path).to.equal(join(dir, 'Videos', V(1)));
    expect(names(val.videos)).to.deep.equal([V(3)]);
    expect(train.source).to.include('without VolumeTracings.csv');
  });

  it('a FileList.csv without a Split column is refused, naming the file', () => {
    const dir = tmp('nosplit');
    writeFileSync(join(dir, 'FileList.csv'), 'FileName\n0X1A00000000000001\n');
    expect(() => openSslVideos(dir, undefined)).to.throw(`${join(dir, 'FileList.csv')}: has no Split column`);
  });

  it('a folder trains on all its videos (subfolders too) but a seeded eighth, held out for validation', () => {
    const dir = pool(16);
    const a = openSslVideos(dir, undefined, { seed: 3 });
    expect(a.val.videos).to.have.length(16 * HOLD_OUT_SHARE);
    expect(a.train.videos).to.have.length(14);
    const all = [...a.train.videos, ...a.val.videos].map((v) => v.path).sort();
    expect(new Set(all).size).to.equal(16);
    expect(all.filter((p) => p.includes(`${join(dir, 'b')}/`))).to.have.length(8);
    expect(openSslVideos(dir, undefined, { seed: 3 }).val.videos).to.deep.equal(a.val.videos);
    expect(openSslVideos(dir, undefined, { seed: 4 }).val.videos).to.not.deep.equal(a.val.videos);
    // beside the folder, not in it
    expect(a.train.cacheDir).to.equal(join(dirname(dir), '.unilvseg-cache'));
  });

  it('a text list trains on every listed video, --val_data gives the VAL split of a root', () => {
    const dir = pool(3);
    const list = join(dir, 'pool.txt');
    writeFileSync(list, `# three clips\nclip0.avi\n\nb/clip1.avi\n${join(dir, 'clip2.avi')}\n`);
    const { train, val } = openSslVideos(list, root);
    expect(train.videos.map((v) => v.path)).to.deep.equal(
      [join(dir, 'b/clip1.avi'), join(dir, 'clip0.avi'), join(dir, 'clip2.avi')].sort(),
    );
    expect(names(val.videos)).to.deep.equal([V(3)]);
    expect(val.cacheDir).to.equal(join(root, '.unilvseg-cache'));
    // a folder as --val_data: all its videos
    expect(openSslVideos(list, join(dir, 'b')).val.videos.map((v) => v.path)).to.deep.equal([
      join(dir, 'b/clip1.avi'),
    ]);
  });

  it('--pct_train keeps a seeded share of the training videos only', () => {
    const dir = pool(16);
    const { train, val } = openSslVideos(dir, root, { pctTrain: 0.25 });
    expect(train.videos).to.have.length(4);
    expect(names(val.videos)).to.deep.equal([V(3)]);
  });

  it('refuses an empty folder, a missing path, a one-video pool without --val_data, naming them', () => {
    const empty = tmp('empty');
    writeFileSync(join(empty, 'readme.txt'), 'x');
    expect(() => openSslVideos(empty, undefined)).to.throw(`${empty}: no videos in this folder`);
    expect(() => openSslVideos(join(empty, 'nope'), undefined)).to.throw(`${join(empty, 'nope')}: no such`);
    expect(() => openSslVideos(empty, join(empty, 'nope'))).to.throw(`${join(empty, 'nope')}: no such`);
    const one = pool(1);
    expect(() => openSslVideos(one, undefined)).to.throw(`${one}: 1 video(s): a pool without --val_data`);
    const list = join(empty, 'empty.txt');
    writeFileSync(list, '# nothing\n');
    expect(() => openSslVideos(list, undefined)).to.throw(`${list}: lists no videos`);
  });

  it('reports a DICOM file of a folder and leaves it out (strict: stops on it)', () => {
    const dir = pool(2);
    const dcm = join(dir, 'IM0001.dcm');
    writeFileSync(dcm, Buffer.alloc(200));
    const bad: string[] = [];
    const { train } = openSslVideos(dir, root, { onBadItem: (f, p) => bad.push(`${f}: ${p}`) });
    expect(train.videos).to.have.length(2);
    expect(bad).to.have.length(1);
    expect(bad[0]).to.match(new RegExp(`^${dcm}: DICOM files are not read for training`));
    expect(() => openSslVideos(dir, root, { strict: true })).to.throw(`${dcm}: DICOM files`);
    rmSync(dcm);
  });
});
