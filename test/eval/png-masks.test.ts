import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  decodeMaskPng,
  encodeMaskPng,
  maskPngName,
  readMaskPng,
  videoStem,
  writeMaskPng,
} from '../../src/infer/png-masks.js';

describe('infer/png-masks', function () {
  it('names files as upstream, with the ED/ES tags swapped', function () {
    expect(maskPngName('0X1005D03EED19C65B', 46, 'ed')).to.equal('0X1005D03EED19C65B_46_esv.png');
    expect(maskPngName('0X1005D03EED19C65B', 61, 'es')).to.equal('0X1005D03EED19C65B_61_edv.png');
    expect(videoStem('0X1005D03EED19C65B.avi')).to.equal('0X1005D03EED19C65B');
    expect(videoStem('a.b.avi')).to.equal('a');
  });

  it('writes 8-bit gray 255/0 PNGs atomically and reads them back', function () {
    const dir = mkdtempSync(join(tmpdir(), 'pngmask-'));
    try {
      const mask = Uint8Array.from({ length: 6 * 5 }, (_, i) => (i % 3 === 0 ? 1 : 0));
      const path = join(dir, 'sub', 'm.png');
      writeMaskPng(path, mask, 6, 5);
      expect(readdirSync(join(dir, 'sub'))).to.deep.equal(['m.png']);
      const raw = readFileSync(path);
      expect(raw[25], 'IHDR colour type').to.equal(0);
      expect(raw[24], 'IHDR bit depth').to.equal(8);
      const png = PNG.sync.read(raw);
      expect([png.width, png.height]).to.deep.equal([5, 6]);
      for (let i = 0; i < mask.length; i++) expect(png.data[4 * i]).to.equal(mask[i] ? 255 : 0);
      expect(readMaskPng(path)).to.deep.equal({ mask, height: 6, width: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('binarises as OpenCV grayscale > 0 (colour PNGs included)', function () {
    const png = new PNG({ width: 4, height: 1 });
    // gray 1; pure red 1 (0.299 rounds to 0); red 2 (0.598 rounds to 1); blue 5 (0.57 -> 1)
    png.data = Buffer.from([1, 1, 1, 255, 1, 0, 0, 255, 2, 0, 0, 255, 0, 0, 5, 0]);
    expect([...decodeMaskPng(PNG.sync.write(png)).mask]).to.deep.equal([1, 0, 1, 1]);
  });

  it('names the file when it cannot be read or decoded', function () {
    expect(() => readMaskPng('/nonexistent/x.png')).to.throw(/\/nonexistent\/x\.png/);
    expect(() => encodeMaskPng(new Uint8Array(3), 2, 2)).to.throw(/expected 2x2/);
  });
});
