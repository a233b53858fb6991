import { expect } from 'chai';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_ENV, FrameCache, defaultCacheDir, getFrames } from '../../src/data/cache.js';
import { decodeVideo, encodeVideo } from '../../src/data/video.js';
import { renderFrames, writeVideo } from '../fixtures/echonet-mini/make.js';

describe('data/cache: decoded-frame cache', () => {
  let dir: string;
  let video: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cache-'));
    video = join(dir, 'Videos', 'v.avi');
    await writeVideo(video, 12, 3);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cacheFiles = (c: FrameCache) => readdirSync(c.dir).filter((f) => f.endsWith('.frames'));

  it('is <root>/.unilvseg-cache unless UNILVSEG_CACHE says otherwise', () => {
    const old = process.env[CACHE_ENV];
    try {
      delete process.env[CACHE_ENV];
      expect(defaultCacheDir('/data/echonet')).to.equal('/data/echonet/.unilvseg-cache');
      process.env[CACHE_ENV] = '/fast/cache';
      expect(defaultCacheDir('/data/echonet')).to.equal('/fast/cache');
    } finally {
      if (old === undefined) delete process.env[CACHE_ENV];
      else process.env[CACHE_ENV] = old;
    }
  });

  it('stores the decoded frames once and returns identical frames from the file', async () => {
    const cache = new FrameCache(join(dir, 'c1'));
    const direct = await decodeVideo(video);
    const first = await cache.getFrames({ path: video });
    expect(first).to.deep.include({ count: 12, height: 112, width: 112, fps: 50 });
    expect(Buffer.from(first.frames).equals(Buffer.from(direct.frames))).to.equal(true);
    const [file] = cacheFiles(cache);
    expect(file).to.match(/^v\.avi\.[0-9a-f]{12}\.frames$/);
    const mtime = statSync(join(cache.dir, file)).mtimeMs;
    const second = await cache.getFrames({ path: video });
    expect(statSync(join(cache.dir, file)).mtimeMs).to.equal(mtime); // read, not rewritten
    expect(Buffer.from(second.frames).equals(Buffer.from(direct.frames))).to.equal(true);
    expect(second).to.deep.include({ count: 12, height: 112, width: 112, fps: 50 });
  });

  it('stores gray videos as one channel (a third of the bytes)', async () => {
    const cache = new FrameCache(join(dir, 'c2'));
    await cache.getFrames({ path: video });
    const size = statSync(join(cache.dir, cacheFiles(cache)[0])).size;
    expect(size).to.be.within(12 * 112 * 112, 12 * 112 * 112 + 512);
  });

  it('stores colour videos as RGB and reads them back exactly', async () => {
    const frames = renderFrames(4, 9, 112);
    for (let i = 0; i < frames.length; i += 3) frames[i] = 255 - frames[i]; // not gray any more
    const path = join(dir, 'colour.mkv');
    await encodeVideo(path, frames, { width: 112, height: 112, fps: 25, codec: 'ffv1' });
    const cache = new FrameCache(join(dir, 'c3'));
    await cache.getFrames({ path });
    const back = await cache.getFrames({ path });
    expect(Buffer.from(back.frames).equals(Buffer.from(frames))).to.equal(true);
    expect(statSync(join(cache.dir, cacheFiles(cache)[0])).size).to.be.above(frames.length);
  });

  it('is invalidated when the source changes (size or mtime)', async () => {
    const path = join(dir, 'Videos', 'w.avi');
    await writeVideo(path, 6, 1);
    const cache = new FrameCache(join(dir, 'c4'));
    expect((await cache.getFrames({ path })).count).to.equal(6);
    await writeVideo(path, 9, 2);
    expect((await cache.getFrames({ path })).count).to.equal(9);
    // Same size, new mtime: decoded again (the cache file is rewritten).
    const [file] = cacheFiles(cache);
    const before = readFileSync(join(cache.dir, file));
    const t = new Date(Date.now() + 5000);
    utimesSync(path, t, t);
    await cache.getFrames({ path });
    const header = (b: Buffer) => JSON.parse(b.toString('utf8', 12, 12 + b.readUInt32LE(8)));
    expect(header(readFileSync(join(cache.dir, file))).mtimeMs).to.not.equal(header(before).mtimeMs);
  });

  it('ignores a torn or garbled cache file and rewrites it', async () => {
    const cache = new FrameCache(join(dir, 'c5'));
    const good = await cache.getFrames({ path: video });
    const file = join(cache.dir, cacheFiles(cache)[0]);
    truncateSync(file, statSync(file).size - 100);
    const again = await cache.getFrames({ path: video });
    expect(Buffer.from(again.frames).equals(Buffer.from(good.frames))).to.equal(true);
    expect(statSync(file).size).to.be.above(12 * 112 * 112);
    writeFileSync(file, 'not a cache file');
    expect((await cache.getFrames({ path: video })).count).to.equal(12);
  });

  it('names the file of a missing video', async () => {
    const cache = new FrameCache(join(dir, 'c6'));
    const missing = join(dir, 'Videos', 'gone.avi');
    let err: Error | undefined;
    await cache.getFrames({ path: missing }).catch((e: Error) => (err = e));
    expect(err?.message).to.equal(`${missing}: no such file (missing video)`);
  });

  it('getFrames defaults to <root>/.unilvseg-cache for <root>/Videos/x.avi', async () => {
    const old = process.env[CACHE_ENV];
    delete process.env[CACHE_ENV];
    try {
      expect((await getFrames({ path: video })).count).to.equal(12);
      expect(readdirSync(join(dir, '.unilvseg-cache')).filter((f) => f.endsWith('.frames'))).to.have.length(
        1,
      );
    } finally {
      if (old !== undefined) process.env[CACHE_ENV] = old;
    }
  });
});
