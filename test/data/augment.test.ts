import { expect } from 'chai';
import { Rng } from '../../src/util/rng.js';
import {
  augmentClip,
  buildWarpMap,
  clahePlane,
  claheRgb,
  colorJitterFrame,
  sampleAugParams,
  warpFrames,
  warpMask,
  type AugParams,
} from '../../src/data/augment/index.js';
import { GRAY_TO_L, L_TO_RGB, grayOf, hsvToRgb, rgbToHsv, rgbToLab } from '../../src/data/augment/color.js';

const S = 112;
const none = { jitter: null, clahe: null };

/** T frames of a pattern that differs at every pixel and frame (not gray). */
function pattern(T: number): Uint8Array {
  const f = new Uint8Array(T * S * S * 3);
  for (let i = 0; i < f.length; i++) f[i] = (i * 7 + Math.floor(i / 3) * 13) % 251;
  return f;
}
const px = (f: Uint8Array, t: number, y: number, x: number, c = 0) => f[((t * S + y) * S + x) * 3 + c];

describe('data/augment: clip augmentation (docs/upstream.md#augmentation)', () => {
  it('draws each parameter in its range, the optional steps half of the time, reproducibly', () => {
    let jitter = 0,
      clahe = 0;
    const crops = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const p = sampleAugParams(Rng.derive(1, 0, i));
      if (p.jitter) {
        jitter++;
        for (const k of ['brightness', 'contrast', 'saturation'] as const)
          expect(p.jitter[k]).to.be.within(0.8, 1.2);
        expect(p.jitter.hue).to.be.within(-0.2, 0.2);
        expect([...p.jitter.order].sort()).to.deep.equal([0, 1, 2, 3]);
      }
      if (p.clahe) {
        clahe++;
        expect(p.clahe.clipLimit).to.be.within(1, 4);
      }
      expect(p.angle).to.be.within(-20, 20);
      crops.add(p.cropY).add(p.cropX);
    }
    expect(jitter / 2000).to.be.within(0.46, 0.54);
    expect(clahe / 2000).to.be.within(0.46, 0.54);
    expect([...crops].sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(sampleAugParams(Rng.derive(9, 9, 9))).to.deep.equal(sampleAugParams(Rng.derive(9, 9, 9)));
  });

  it("keeps upstream's pad share on frames of other sizes: crop offsets 0..6 at 64 pixels, 0..4 at 32, and offset 0 moves a 32-pixel picture 2 pixels down and right", () => {
    for (const [side, offsets] of [
      [64, 7],
      [32, 5],
    ]) {
      const crops = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const p = sampleAugParams(Rng.derive(2, side, i), side, side);
        crops.add(p.cropY).add(p.cropX);
      }
      expect([...crops].sort((a, b) => a - b)).to.deep.equal([...Array(offsets).keys()]);
    }
    const s = 32;
    const frame = Uint8Array.from({ length: s * s * 3 }, (_, i) => 1 + (i % 250));
    const out = augmentClip(frame.slice(), 1, s, s, { ...none, angle: 0, cropY: 0, cropX: 0 }).frames;
    for (const [y, x] of [
      [2, 2],
      [10, 20],
      [31, 31],
    ])
      expect(out[(y * s + x) * 3]).to.equal(frame[((y - 2) * s + x - 2) * 3]);
    expect(out[(1 * s + 5) * 3]).to.equal(0); // row -1 of the source: padding
  });

  it('rotation by 0 with crop offset 6 (the centre) is the identity for frames and mask', () => {
    const frames = pattern(3);
    const mask = Float32Array.from({ length: S * S }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const out = augmentClip(frames.slice(), 3, S, S, { ...none, angle: 0, cropY: 6, cropX: 6 }, mask);
    expect(Buffer.from(out.frames).equals(Buffer.from(frames))).to.equal(true);
    expect(out.mask).to.deep.equal(mask);
  });

  it('a crop offset translates by offset-6 with zero fill', () => {
    const frames = pattern(2);
    const out = warpFrames(frames, 2, buildWarpMap(S, S, 0, 9, 2)); // down 3, left 4 in source terms
    for (const [t, y, x] of [
      [0, 0, 10],
      [1, 50, 50],
      [1, 108, 111],
    ]) {
      expect(px(out, t, y, x, 1)).to.equal(px(frames, t, y + 3, x - 4, 1));
    }
    expect(px(out, 0, 109, 20)).to.equal(0); // source row 112: padding
    expect(px(out, 0, 20, 3)).to.equal(0); // source column -1: padding
  });

  it('rotates counter-clockwise about (55.5, 55.5): at 90 degrees output (x, y) shows input (111 - y, x)', () => {
    const frames = pattern(1);
    const out = warpFrames(frames, 1, buildWarpMap(S, S, 90, 6, 6));
    let wrong = 0;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) wrong += Number(px(out, 0, y, x, 2) !== px(frames, 0, x, 111 - y, 2));
    expect(wrong).to.equal(0);
  });

  it('moves frames and mask together (bright disc and its mask keep one centre)', () => {
    const frames = new Uint8Array(2 * S * S * 3);
    const mask = new Uint8Array(S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if (Math.hypot(x - 70, y - 40) > 12) continue;
        mask[y * S + x] = 1;
        for (let t = 0; t < 2; t++)
          frames.fill(200, ((t * S + y) * S + x) * 3, ((t * S + y) * S + x) * 3 + 3);
      }
    }
    const centre = (w: (i: number) => number) => {
      let sx = 0,
        sy = 0,
        s = 0;
      for (let i = 0; i < S * S; i++) ((sx += w(i) * (i % S)), (sy += w(i) * Math.floor(i / S)), (s += w(i)));
      return [sx / s, sy / s];
    };
    for (let k = 0; k < 5; k++) {
      const params: AugParams = { ...sampleAugParams(Rng.derive(3, k, 0)), ...none };
      const out = augmentClip(frames.slice(), 2, S, S, params, mask);
      const [mx, my] = centre((i) => out.mask![i]);
      for (let t = 0; t < 2; t++) {
        const [fx, fy] = centre((i) => out.frames[(t * S * S + i) * 3]);
        expect(Math.hypot(fx - mx, fy - my)).to.be.below(0.3);
      }
      expect(Math.hypot(mx - 70, my - 40)).to.be.above(0.5); // it did move
    }
  });

  it('gives the same output for the same seed and shares parameters across frames', () => {
    const frames = pattern(4);
    const run = (seed: number) => {
      let p = sampleAugParams(Rng.derive(seed, 0, 0));
      // Force both colour steps on, so all five transforms run.
      p = {
        ...p,
        jitter: p.jitter ?? {
          brightness: 1.1,
          contrast: 0.9,
          saturation: 1.15,
          hue: 0.05,
          order: [3, 1, 0, 2],
        },
        clahe: p.clahe ?? { clipLimit: 2.5 },
      };
      return augmentClip(frames.slice(), 4, S, S, p).frames;
    };
    expect(Buffer.from(run(5)).equals(Buffer.from(run(5)))).to.equal(true);
    expect(Buffer.from(run(5)).equals(Buffer.from(run(6)))).to.equal(false);
    // Identical input frames stay identical: one parameter set for the whole clip.
    const same = new Uint8Array(3 * S * S * 3);
    for (let t = 0; t < 3; t++) same.set(pattern(1), t * S * S * 3);
    const p = {
      ...sampleAugParams(Rng.derive(7, 0, 0)),
      jitter: { brightness: 1.2, contrast: 0.8, saturation: 1, hue: 0, order: [0, 1, 2, 3] },
      clahe: { clipLimit: 3 },
    };
    const out = augmentClip(same, 3, S, S, p).frames;
    expect(Buffer.from(out.subarray(0, S * S * 3)).equals(Buffer.from(out.subarray(2 * S * S * 3)))).to.equal(
      true,
    );
  });

  it('augments a 32-frame gray (EchoNet-like) clip fast, all five steps on', () => {
    const frames = new Uint8Array(32 * S * S * 3);
    for (let i = 0; i < 32 * S * S; i++) frames.fill((i * 13) % 256, 3 * i, 3 * i + 3);
    const p = {
      ...sampleAugParams(Rng.derive(1, 2, 3)),
      jitter: { brightness: 1.1, contrast: 0.9, saturation: 1.1, hue: 0.1, order: [0, 1, 2, 3] },
      clahe: { clipLimit: 2 },
    };
    augmentClip(frames.slice(), 32, S, S, p); // warm-up
    const t0 = performance.now();
    augmentClip(frames.slice(), 32, S, S, p);
    expect(performance.now() - t0).to.be.below(250); // about 60 ms warm on one core
  });
});

describe('data/augment: ColorJitter ops on uint8 (albumentations 1.2.1 / OpenCV semantics)', () => {
  const frame = (...rgb: number[]) => Uint8Array.from(rgb);
  const only = (
    op: number,
    v: Partial<{ brightness: number; contrast: number; saturation: number; hue: number }>,
  ) => ({ brightness: 1, contrast: 1, saturation: 1, hue: 0, ...v, order: [op] });

  it('brightness: LUT i*b clipped and truncated', () => {
    const f = frame(200, 250, 7);
    colorJitterFrame(f, only(0, { brightness: 1.1 }));
    expect([...f]).to.deep.equal([220, 255, 7]); // 7*1.1 = 7.7 -> 7
  });

  it("contrast: around the frame's own mean gray", () => {
    const f = frame(50, 50, 50, 150, 150, 150); // mean gray 100
    colorJitterFrame(f, only(1, { contrast: 1.2 }));
    expect([...f]).to.deep.equal([40, 40, 40, 160, 160, 160]);
  });

  it('saturation: blend with the gray image; gray pixels unchanged', () => {
    const f = frame(200, 100, 50, 90, 90, 90);
    expect(grayOf(200, 100, 50)).to.equal(124); // (200*9798 + 100*19235 + 50*3735 + 16384) >> 15
    colorJitterFrame(f, only(2, { saturation: 0.5 }));
    expect([...f]).to.deep.equal([162, 112, 87, 90, 90, 90]); // x/2 + 62
  });

  it('hue: shift by 180*h in [0,180) HSV; gray pixels unchanged', () => {
    const hsv = new Int32Array(3);
    rgbToHsv(255, 0, 0, hsv);
    expect([...hsv]).to.deep.equal([0, 255, 255]);
    rgbToHsv(0, 0, 255, hsv);
    expect([...hsv]).to.deep.equal([120, 255, 255]);
    const out = new Uint8Array(3);
    // 72 degrees, between yellow and green: r = 0.8 * 255 = 204 in exact arithmetic; OpenCV's
    // vectorised float32 path gets 203.99998 and truncates to 203, as we do.
    hsvToRgb(36, 255, 255, out, 0);
    expect([...out]).to.deep.equal([203, 255, 0]);
    const f = frame(255, 0, 0, 77, 77, 77);
    colorJitterFrame(f, only(3, { hue: 0.2 }));
    expect([...f]).to.deep.equal([203, 255, 0, 77, 77, 77]);
  });
});

describe('data/augment: CLAHE (OpenCV createCLAHE semantics)', () => {
  it('maps a flat image through the clipped, redistributed histogram', () => {
    // Tile 14x14 = 196 px all at 100; clip limit int(4*196/256) = 3: 193 clipped, 0 per bin,
    // residual 193 spread one each over bins 0..192. CDF at 100 = 100 + 3 + 1 = 104;
    // lut = round(104 * 255/196) = 135.
    const plane = new Uint8Array(S * S).fill(100);
    const out = new Uint8Array(S * S);
    clahePlane(plane, out, S, S, 4);
    expect(out.every((v) => v === 135)).to.equal(true);
    clahePlane(plane, out, S, S, 1); // clip 1: CDF at 100 = 101 + 1 = 102 -> round(132.7) = 133
    expect(out.every((v) => v === 133)).to.equal(true);
  });

  it('interpolates bilinearly between neighbouring tiles', () => {
    // Left four tile columns at 50, right four at 200, no clipping (limit above 196): each
    // tile's LUT is a step to 255 at its own value. At x = 55 (value 50) the weights are
    // 1 - (55/14 - 0.5 - 3) = 0.5714 for tile 3 (->255) and 0.4286 for tile 4 (->0): 146.
    const plane = new Uint8Array(S * S);
    for (let i = 0; i < plane.length; i++) plane[i] = i % S < 56 ? 50 : 200;
    const out = new Uint8Array(S * S);
    clahePlane(plane, out, S, S, 1000);
    const row = [...out.subarray(20 * S, 21 * S)];
    expect(row.slice(0, 49).every((v) => v === 255)).to.equal(true); // x <= 48: tiles 2-3 both ->255
    expect(row[50]).to.equal(237); // 255 * (1 - 0.0714)
    expect(row[55]).to.equal(146);
    expect(row.slice(56).every((v) => v === 255)).to.equal(true); // 200 -> 255 in every tile
  });

  it('equalises a low-contrast image and keeps gray frames gray through Lab', () => {
    const f = new Uint8Array(S * S * 3);
    for (let i = 0; i < S * S; i++) f.fill(100 + ((i * 7) % 16), 3 * i, 3 * i + 3);
    claheRgb(f, S, S, 4);
    let lo = 255,
      hi = 0,
      offGray = 0;
    for (let i = 0; i < S * S; i++) {
      lo = Math.min(lo, f[3 * i]);
      hi = Math.max(hi, f[3 * i]);
      offGray = Math.max(offGray, Math.abs(f[3 * i] - f[3 * i + 1]), Math.abs(f[3 * i] - f[3 * i + 2]));
    }
    expect(hi - lo).to.be.above(40);
    expect(offGray).to.be.at.most(1);
  });

  it('uses sRGB Lab: gray 128 has L 137 (53.6 * 255/100), a = b = 128, and converts back', () => {
    const lab = new Int32Array(3);
    rgbToLab(128, 128, 128, lab);
    expect([...lab]).to.deep.equal([137, 128, 128]);
    expect(GRAY_TO_L[0]).to.equal(0);
    expect(GRAY_TO_L[255]).to.equal(255);
    for (let v = 0; v < 256; v++) expect(Math.abs(L_TO_RGB[3 * GRAY_TO_L[v]] - v)).to.be.at.most(2);
  });
});

describe('data/augment: warp map', () => {
  it('nearest-neighbour mask warp keeps mask values exactly', () => {
    const mask = Float32Array.from({ length: S * S }, (_, i) => ((i * 31) % 7 === 0 ? 1 : 0));
    const out = warpMask(mask, buildWarpMap(S, S, 13, 2, 9));
    expect(out.every((v) => v === 0 || v === 1)).to.equal(true);
    expect(out.some((v) => v === 1)).to.equal(true);
  });
});
