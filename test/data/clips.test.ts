import { expect } from 'chai';
import { Rng } from '../../src/util/rng.js';
import {
  centredClipStart,
  clipIndices,
  inferenceWindows,
  inferenceWindowStarts,
  padLength,
  randomClipStart,
  sslClipStart,
} from '../../src/data/clips.js';
import { maskedFrameCount, sampleKeep } from '../../src/data/masking.js';

describe('data/clips: clip sampling and its reference values (docs/upstream.md)', () => {
  it('pads short videos to T*p frames and leaves long ones alone', () => {
    expect(padLength(28, 32, 1)).to.equal(32);
    expect(padLength(50, 32, 2)).to.equal(64);
    expect(padLength(100, 32, 1)).to.equal(100);
  });

  // (T, p, ti, f) -> (start, end, rel), docs/upstream.md#reference-values.
  const centred: [number, number, number, number, number, number, number][] = [
    [32, 1, 10, 100, 0, 31, 10],
    [32, 1, 95, 100, 68, 99, 27],
    [32, 1, 50, 100, 34, 65, 16],
    [32, 1, 3, 32, 0, 31, 3],
    [32, 2, 5, 120, 1, 63, 2],
    [32, 2, 118, 120, 56, 118, 31],
    [16, 1, 0, 50, 0, 15, 0],
  ];
  for (const [T, p, ti, f, s, e, rel] of centred) {
    it(`centred clip (T=${T}, p=${p}, ti=${ti}, f=${f}) -> start ${s}, end ${e}, rel ${rel}`, () => {
      const start = centredClipStart(ti, f, T, p);
      const idx = clipIndices(start, T, p);
      expect([start, idx[T - 1], idx.indexOf(ti)]).to.deep.equal([s, e, rel]);
    });
  }

  it('centred clip: contains ti at T//2, or is shifted just enough to fit (all ti, f, T, p tried)', () => {
    for (const T of [4, 5, 7, 16, 32]) {
      for (const p of [1, 2, 3]) {
        for (const f of [T * p, T * p + 1, T * p + 7, 3 * T * p]) {
          const last = f - 1 - (T - 1) * p; // last start that fits
          for (let ti = 0; ti < f; ti++) {
            const s = centredClipStart(ti, f, T, p);
            expect(s).to.be.within(0, last);
            expect(clipIndices(s, T, p)).to.include(ti);
            const ideal = ti - Math.floor(T / 2) * p;
            if (ideal < 0)
              expect(s).to.equal(ti % p); // first aligned start
            else if (ideal > last)
              expect(s).to.equal(last - ((((last - ti) % p) + p) % p)); // last aligned start
            else expect(s).to.equal(ideal);
          }
        }
      }
    }
  });

  it('random training clips contain the traced frame and cover every valid start uniformly', () => {
    const rng = new Rng(7);
    const T = 8,
      p = 2,
      f = 40,
      ti = 13;
    const counts = new Map<number, number>();
    let outside = 0;
    for (let i = 0; i < 8000; i++) {
      const s = randomClipStart(rng, ti, f, T, p);
      if (!clipIndices(s, T, p).includes(ti) || s + (T - 1) * p >= f) outside++;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(outside).to.equal(0);
    // Valid: s = 13 - 2k >= max(0, 13-14) and s <= min(13, 40-1-14=25): 1,3,...,13 (7 starts).
    expect([...counts.keys()].sort((a, b) => a - b)).to.deep.equal([1, 3, 5, 7, 9, 11, 13]);
    for (const c of counts.values()) expect(c).to.be.within(8000 / 7 - 150, 8000 / 7 + 150);
    // Near the end the clip must end at the video's last valid start.
    expect(randomClipStart(rng, 99, 100, 32, 1)).to.equal(68);
  });

  it('random training clips are reproducible from the seed', () => {
    const a = Array.from({ length: 20 }, (_, i) => randomClipStart(Rng.derive(42, 3, i), 50, 120, 32, 1));
    const b = Array.from({ length: 20 }, (_, i) => randomClipStart(Rng.derive(42, 3, i), 50, 120, 32, 1));
    expect(a).to.deep.equal(b);
    expect(new Set(a).size).to.be.above(5);
  });

  it('SSL clips start anywhere in [0, f-(T-1)p-1]', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(sslClipStart(rng, 40, 8, 2));
    expect(Math.min(...seen)).to.equal(0);
    expect(Math.max(...seen)).to.equal(40 - 14 - 1);
    expect(seen.size).to.equal(26);
    expect(sslClipStart(rng, 32, 32, 1)).to.equal(0);
  });

  it('rejects a traced frame outside the video and a video too short for the clip', () => {
    expect(() => centredClipStart(100, 100, 32, 1)).to.throw(
      'traced frame 100 is outside a video of 100 frames',
    );
    expect(() => randomClipStart(new Rng(1), -1, 100, 32, 1)).to.throw('outside');
    expect(() => sslClipStart(new Rng(1), 31, 32, 1)).to.throw('pad it first');
    expect(() => centredClipStart(3, 63, 32, 2)).to.throw('shorter than T*p = 64');
  });

  const windows: [number, number, number, number[]][] = [
    [100, 32, 1, [0, 32, 64, 68]],
    [70, 32, 1, [0, 32, 38]],
    [64, 32, 1, [0, 32]],
    [65, 32, 1, [0, 32, 33]],
    [32, 32, 1, [0]],
    [130, 32, 2, [0, 1, 64, 65, 66, 67]],
  ];
  for (const [f, T, p, starts] of windows) {
    it(`inference windows (f=${f}, T=${T}, p=${p}) start at [${starts}]`, () => {
      expect(inferenceWindowStarts(f, T, p)).to.deep.equal(starts);
      const w = inferenceWindows(f, T, p);
      expect(w.map((ix) => ix[0])).to.deep.equal(starts);
      // Every frame of the padded video is covered.
      expect(new Set(w.flat()).size).to.equal(f);
      for (const ix of w) expect(ix[T - 1]).to.be.below(f);
    });
  }
});

describe('data/masking: SSL temporal masking and its reference values (docs/upstream.md)', () => {
  // (T, ratio) -> masked frames. Upstream's super-image pipeline would mask T minus these
  // (19/13, 10/6, ...); we mask round_half_up(T*ratio) for both pipelines on purpose.
  const counts: [number, number, number][] = [
    [32, 0.6, 19],
    [16, 0.6, 10],
    [32, 0.5, 16],
    [32, 0.75, 24],
    [16, 0.5, 8],
  ];
  for (const [T, r, n] of counts) {
    it(`masks ${n} of ${T} frames at ratio ${r}`, () => {
      expect(maskedFrameCount(T, r)).to.equal(n);
      const keep = sampleKeep(new Rng(T * 100 + r * 10), T, r);
      expect(keep.length).to.equal(T);
      expect(keep.filter((v) => v === 0).length).to.equal(n);
      expect(keep.filter((v) => v === 1).length).to.equal(T - n);
    });
  }

  it('draws the masked set uniformly and reproducibly', () => {
    const hits = new Float64Array(32);
    for (let i = 0; i < 3000; i++)
      sampleKeep(Rng.derive(5, 0, i), 32, 0.6).forEach((v, k) => (hits[k] += 1 - v));
    for (const h of hits) expect(h / 3000).to.be.within(0.54, 0.65);
    expect(sampleKeep(Rng.derive(5, 1, 2), 32, 0.6)).to.deep.equal(sampleKeep(Rng.derive(5, 1, 2), 32, 0.6));
  });

  it('rejects ratios outside (0, 1)', () => {
    for (const r of [0, 1, -0.1, 1.5]) expect(() => maskedFrameCount(32, r)).to.throw('(0, 1) exclusive');
  });
});
