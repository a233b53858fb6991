import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import { chooseBinary } from '../../src/data/ffmpeg-binaries.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-ffbin');

/** A file this process may read but not execute (as the bundled ffprobe is for other users). */
function notExecutable(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, 'a binary');
  chmodSync(path, 0o644);
  return path;
}

describe('data/ffmpeg-binaries: which ffmpeg and ffprobe run', function () {
  it('the bundled binary when this user may execute it', function () {
    expect(chooseBinary('ffprobe', ffprobeInstaller.path, { PATH: '' })).to.deep.equal({
      path: ffprobeInstaller.path,
      from: 'bundled',
    });
  });

  it('a bundled binary this user may not execute: the one on the PATH instead, which runs', function () {
    const bundled = notExecutable(tmp('bundle'), 'ffprobe');
    const bin = tmp('bin');
    symlinkSync(ffprobeInstaller.path, join(bin, 'ffprobe'));
    const choice = chooseBinary('ffprobe', bundled, { PATH: `${tmp('empty')}:${bin}` });
    expect(choice).to.deep.equal({ path: join(bin, 'ffprobe'), from: 'PATH' });
    expect(execFileSync(choice!.path, ['-version'], { encoding: 'utf8' })).to.match(/^ffprobe version/);
  });

  it('nothing executable: an error naming the binary, its mode and the fixes', function () {
    const bundled = notExecutable(tmp('bundle'), 'ffprobe');
    const error = (() => {
      try {
        chooseBinary('ffprobe', bundled, { PATH: tmp('empty') });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).to.contain(
      `ffprobe cannot be run by this user: ${bundled} is not executable by it (mode 644`,
    );
    expect(error).to.contain(`chmod a+rx ${bundled}`);
    expect(error).to.contain('install ffprobe on the PATH, or set FFPROBE_PATH');
  });

  it('FFMPEG_PATH / FFPROBE_PATH win, and one that cannot run is an error naming the variable', function () {
    const bin = tmp('bin');
    symlinkSync(ffprobeInstaller.path, join(bin, 'my-ffprobe'));
    expect(
      chooseBinary('ffprobe', ffprobeInstaller.path, { FFPROBE_PATH: join(bin, 'my-ffprobe') }),
    ).to.deep.equal({ path: join(bin, 'my-ffprobe'), from: 'FFPROBE_PATH' });
    const bad = notExecutable(bin, 'ffmpeg');
    expect(() => chooseBinary('ffmpeg', undefined, { FFMPEG_PATH: bad })).to.throw(
      `FFMPEG_PATH=${bad}: not executable by this user (mode 644`,
    );
    expect(() => chooseBinary('ffmpeg', undefined, { FFMPEG_PATH: join(bin, 'nothing') })).to.throw(
      /no such file/,
    );
  });

  it('no bundled binary and none on the PATH: ffprobe is left out (ffmpeg probes), ffmpeg is an error', function () {
    const missing = join(tmp('bundle'), 'ffprobe');
    expect(chooseBinary('ffprobe', missing, { PATH: tmp('empty') })).to.equal(null);
    expect(() => chooseBinary('ffmpeg', missing, { PATH: tmp('empty') })).to.throw(
      /no ffmpeg to run: the bundled binary .* is missing and there is none on the PATH/,
    );
  });
});
