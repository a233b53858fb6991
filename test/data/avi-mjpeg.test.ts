import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeMjpegAvi, withHuffmanTables } from '../../src/data/avi-mjpeg.js';
import { decodeVideo, probeVideo } from '../../src/data/video.js';
import { writeAvi } from '../helpers/avi-writer.js';
import { synthDataset } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-avi');

/** A JPEG of a w x h test pattern that changes with `k`, as jpeg-js encodes it (standard tables). */
function patternJpeg(w: number, h: number, k: number): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    rgba.set([(x * 7 + k * 40) % 256, (y * 9 + k * 13) % 256, ((x + y) * 5) % 256, 255], 4 * i);
  }
  return jpeg.encode({ data: rgba, width: w, height: h }, 85).data;
}

/** The JPEG without its Huffman tables (DHT segments), as many MJPEG writers store frames. */
function withoutHuffmanTables(j: Uint8Array): Uint8Array {
  const parts = [j.subarray(0, 2)];
  for (let at = 2; ;) {
    const len = (j[at + 2] << 8) | j[at + 3];
    if (j[at + 1] === 0xda) {
      parts.push(j.subarray(at));
      break;
    }
    if (j[at + 1] !== 0xc4) parts.push(j.subarray(at, at + 2 + len));
    at += 2 + len;
  }
  return Buffer.concat(parts);
}

const rgb = (j: Uint8Array) => jpeg.decode(j, { useTArray: true, formatAsRGBA: false }).data;

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).to.equal(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / a.length;
}

describe('Motion-JPEG AVI without ffmpeg (the viewer’s AVI decoder)', function () {
  this.timeout(60_000);

  it("decodes ffmpeg-written EchoNet-style AVIs to ffmpeg's frame count, rate and size, pixels within 0.1 grey level on average", async () => {
    const dir = join(await synthDataset(2, 11, 100, 110), 'Videos');
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const ours = decodeMjpegAvi(name, readFileSync(path));
      const ref = await decodeVideo(path);
      expect([ours.count, ours.width, ours.height], name).to.deep.equal([ref.count, ref.width, ref.height]);
      expect(ours.fps, name).to.equal((await probeVideo(path)).fps);
      expect(meanAbsDiff(ours.frames, ref.frames), name).to.be.below(0.1);
    }
  });

  it("reads frames without Huffman tables, in 'rec ' lists, after an audio stream, with an empty repeat chunk, at 30000/1001 fps; ffmpeg reads the same file alike", async () => {
    const jpegs = [0, 1, 2].map((k) => patternJpeg(40, 24, k));
    const avi = writeAvi({
      frames: [withoutHuffmanTables(jpegs[0]), jpegs[1], null, withoutHuffmanTables(jpegs[2])],
      width: 40,
      height: 24,
      rate: 30000,
      scale: 1001,
      audioFirst: true,
      recLists: true,
    });
    const v = decodeMjpegAvi('pattern.avi', avi);
    expect([v.count, v.width, v.height, v.fps]).to.deep.equal([4, 40, 24, 30000 / 1001]);
    const plane = 40 * 24 * 3;
    const expected = [rgb(jpegs[0]), rgb(jpegs[1]), rgb(jpegs[1]), rgb(jpegs[2])];
    expected.forEach(
      (e, k) =>
        expect(
          Buffer.from(v.frames.subarray(k * plane, (k + 1) * plane)).equals(Buffer.from(e)),
          `frame ${k}`,
        ).to.be.true,
    );
    // The writer is AVI as ffmpeg understands it too (the frames without the repeat chunk).
    const file = join(tmp('ffmpeg'), 'pattern.avi');
    writeFileSync(
      file,
      writeAvi({
        frames: [withoutHuffmanTables(jpegs[0]), jpegs[1]],
        width: 40,
        height: 24,
        rate: 30000,
        scale: 1001,
      }),
    );
    const ref = await decodeVideo(file);
    expect(ref.count).to.equal(2);
    expect(meanAbsDiff(ref.frames, v.frames.subarray(0, 2 * plane))).to.be.below(1.5);
  });

  it('adds the standard Huffman tables only to a JPEG that lacks them', () => {
    const j = patternJpeg(16, 16, 3);
    expect(withHuffmanTables(j)).to.equal(j);
    const bare = withoutHuffmanTables(j);
    expect(() => rgb(bare)).to.throw();
    expect(Buffer.from(rgb(withHuffmanTables(bare))).equals(Buffer.from(rgb(j)))).to.be.true;
  });

  it('refuses, naming the file: not an AVI, another codec, a truncated frame, a corrupt JPEG, no frames, frames of two sizes', () => {
    const frames = [patternJpeg(40, 24, 0), patternJpeg(40, 24, 1)];
    const spec = { frames, width: 40, height: 24, rate: 50, scale: 1 };
    const good = writeAvi(spec);
    expect(() => decodeMjpegAvi('a.mp4', Buffer.from('....ftypisom'))).to.throw(/^a\.mp4: not an AVI file/);
    expect(() => decodeMjpegAvi('h.avi', writeAvi({ ...spec, codec: 'H264' }))).to.throw(
      /^h\.avi: AVI video codec "H264" is not Motion JPEG.*unilvseg serve/,
    );
    expect(() => decodeMjpegAvi('cut.avi', good.subarray(0, good.length - 100))).to.throw(
      /^cut\.avi: truncated AVI: frame 1 is cut short/,
    );
    const broken = Buffer.from(frames[1]);
    broken.fill(0x55, 200, 400);
    expect(() => decodeMjpegAvi('bad.avi', writeAvi({ ...spec, frames: [frames[0], broken] }))).to.throw(
      /^bad\.avi: corrupt JPEG in frame 1/,
    );
    expect(() => decodeMjpegAvi('empty.avi', writeAvi({ ...spec, frames: [] }))).to.throw(
      /^empty\.avi: AVI file holds no video frames/,
    );
    expect(() =>
      decodeMjpegAvi('sizes.avi', writeAvi({ ...spec, frames: [frames[0], patternJpeg(32, 24, 1)] })),
    ).to.throw(/^sizes\.avi: frame 1 is 32x24, frame 0 40x24/);
  });
});
