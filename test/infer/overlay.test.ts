import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeVideo } from '../../src/data/video.js';
import {
  GT_COLOR,
  PRED_COLOR,
  contourPixels,
  drawContour,
  overlayFrames,
  upscaleNearest,
} from '../../src/infer/overlay.js';
import { writeOverlayVideo } from '../../src/infer/overlay-video.js';

const H = 40;
const W = 50;

/** A frame whose every pixel differs, so any unintended change shows. */
function gradientFrame(seed = 0): Uint8Array {
  return Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 7 + seed) % 251);
}

function squareMask(r0: number, r1: number, c0: number, c1: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) m[r * W + c] = 1;
  return m;
}

describe('infer/overlay', function () {
  it("draws exactly the square's boundary pixels and leaves the rest of the frame unchanged", function () {
    const frame = gradientFrame();
    const original = Uint8Array.from(frame);
    drawContour(frame, squareMask(10, 19, 20, 29), H, W, PRED_COLOR);
    let painted = 0;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const onBoundary =
          r >= 10 && r <= 19 && c >= 20 && c <= 29 && (r === 10 || r === 19 || c === 20 || c === 29);
        const px = [...frame.subarray(3 * (r * W + c), 3 * (r * W + c) + 3)];
        if (onBoundary) {
          expect(px, `(${r},${c})`).to.deep.equal([...PRED_COLOR]);
          painted++;
        } else {
          expect(px, `(${r},${c})`).to.deep.equal([
            ...original.subarray(3 * (r * W + c), 3 * (r * W + c) + 3),
          ]);
        }
      }
    }
    expect(painted).to.equal(36);
  });

  it('thickness grows the contour inwards; the image border closes a mask touching it', function () {
    const count = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);
    expect(count(contourPixels(squareMask(10, 19, 20, 29), H, W, 2))).to.equal(36 + 28);
    const edge = contourPixels(squareMask(0, 4, 0, 4), H, W);
    expect(count(edge)).to.equal(16);
    expect(edge[0]).to.equal(1);
    expect(count(contourPixels(new Uint8Array(H * W), H, W))).to.equal(0);
  });

  it('overlays every frame, the prediction over the ground truth, without touching the input', function () {
    const frames = new Uint8Array(2 * H * W * 3);
    frames.set(gradientFrame(1), 0);
    frames.set(gradientFrame(2), H * W * 3);
    const before = Uint8Array.from(frames);
    const masks = new Uint8Array(2 * H * W);
    masks.set(squareMask(10, 19, 20, 29), 0);
    masks.set(squareMask(5, 8, 5, 8), H * W);
    const gt = new Uint8Array(2 * H * W);
    gt.set(squareMask(10, 25, 20, 35), 0);
    const out = overlayFrames(frames, masks, 2, H, W, { gtMasks: gt });
    expect(frames).to.deep.equal(before);
    const px = (f: number, r: number, c: number): number[] => [
      ...out.subarray(3 * (f * H * W + r * W + c), 3 * (f * H * W + r * W + c) + 3),
    ];
    expect(px(0, 10, 20)).to.deep.equal([...PRED_COLOR]); // shared corner: prediction wins
    expect(px(0, 25, 35)).to.deep.equal([...GT_COLOR]);
    expect(px(1, 5, 5)).to.deep.equal([...PRED_COLOR]);
    expect(px(1, 20, 20)).to.deep.equal([
      ...before.subarray(3 * (H * W + 20 * W + 20), 3 * (H * W + 20 * W + 20) + 3),
    ]);
    expect(() => overlayFrames(frames, masks.subarray(1), 2, H, W)).to.throw(/masks hold/);
  });

  it('upscales by pixel replication', function () {
    expect([...upscaleNearest(Uint8Array.from([1, 2, 3, 4]), 2, 2, 1, 2)]).to.deep.equal([
      1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
    ]);
  });

  it('writes an H.264 MP4 with every frame, the contour visible', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'overlay-'));
    try {
      const count = 6;
      const frames = new Uint8Array(count * 64 * 64 * 3).fill(90);
      const masks = new Uint8Array(count * 64 * 64);
      for (let f = 0; f < count; f++)
        for (let r = 16; r < 48; r++) for (let c = 16; c < 48; c++) masks[f * 64 * 64 + r * 64 + c] = 1;
      const path = join(dir, 'overlay.mp4');
      await writeOverlayVideo(path, { frames, count, height: 64, width: 64, fps: 25 }, masks, {
        thickness: 2,
      });
      const back = await decodeVideo(path);
      expect([back.count, back.height, back.width]).to.deep.equal([count, 64, 64]);
      const at = (r: number, c: number): number[] => [
        ...back.frames.subarray(3 * (r * 64 + c), 3 * (r * 64 + c) + 3),
      ];
      const [red, green] = at(16, 32);
      expect(green - red, 'contour is green').to.be.above(80);
      for (const v of at(32, 32)) expect(v, 'inside untouched').to.be.closeTo(90, 12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
