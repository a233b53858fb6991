import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { FrameCache } from '../../src/data/cache.js';
import { openEchoNet, type EchoVideo } from '../../src/data/echonet.js';
import { tracingToMask } from '../../src/data/polygon.js';
import { augmentClip, sampleAugParams } from '../../src/data/augment/index.js';
import { clipIndices, randomClipStart } from '../../src/data/clips.js';
import {
  gatherClip,
  sampleList,
  shrinkClip,
  shrinkMask,
  sslSample,
  weakSample,
} from '../../src/data/samples.js';
import { makeEchoNetMini, writeVideo } from '../fixtures/echonet-mini/make.js';

const FB = 112 * 112 * 3;

/** The error a promise rejects with (a test fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('data/samples: weak and SSL samples from decoded videos', () => {
  let root: string;
  let cleanup: () => void;
  let videos: EchoVideo[];
  let cache: FrameCache;
  before(async () => {
    ({ root, cleanup } = await makeEchoNetMini());
    videos = openEchoNet(root, 'all');
    cache = new FrameCache(join(root, '.cache'));
  });
  after(() => cleanup());

  it('evaluation: centred clip around the traced frame, its mask, no augmentation', async () => {
    const v = videos[0]; // 60 frames, ES 12, ED 40
    const frames = await cache.getFrames(v);
    const ed = weakSample(v, frames, 'ed', 32, 1, false, new Rng(1));
    expect(ed).to.include({ relIndex: 16, traceFrame: 40, fileName: v.fileName, which: 'ed' });
    expect(Buffer.from(ed.frames).equals(Buffer.from(frames.frames.subarray(24 * FB, 56 * FB)))).to.equal(
      true,
    );
    expect(ed.traceMask).to.deep.equal(Float32Array.from(tracingToMask(v.edRows)));
    const es = weakSample(v, frames, 'es', 32, 1, false, new Rng(1));
    expect(es).to.include({ relIndex: 12, traceFrame: 12, which: 'es' }); // start clamped to 0
    expect(es.traceMask.reduce((a, b) => a + b, 0)).to.be.below(ed.traceMask.reduce((a, b) => a + b, 0));
  });

  it('pads a short video with raw black frames (28 frames, T = 32)', async () => {
    const v = videos[2]; // VAL, 28 frames, ED frame 3
    const frames = await cache.getFrames(v);
    expect(frames.count).to.equal(28);
    const s = weakSample(v, frames, 'ed', 32, 1, false, new Rng(1));
    expect(s.relIndex).to.equal(3);
    expect(s.frames.length).to.equal(32 * FB);
    expect(Buffer.from(s.frames.subarray(0, 28 * FB)).equals(Buffer.from(frames.frames))).to.equal(true);
    expect(s.frames.subarray(28 * FB).every((b) => b === 0)).to.equal(true);
    expect(
      gatherClip(frames, [27, 28, 40])
        .subarray(FB)
        .every((b) => b === 0),
    ).to.equal(true);
  });

  it('training: a random clip holding the traced frame at relIndex, augmented with its mask, reproducible per seed', async () => {
    const v = videos[1]; // 45 frames, ES 30, ED 5
    const frames = await cache.getFrames(v);
    const [T, p, ti] = [16, 2, 30];
    const rels = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const s = weakSample(v, frames, 'es', T, p, true, Rng.derive(42, 0, i));
      expect(s.relIndex).to.be.within(0, T - 1);
      rels.add(s.relIndex);
      const again = weakSample(v, frames, 'es', T, p, true, Rng.derive(42, 0, i));
      expect(Buffer.from(again.frames).equals(Buffer.from(s.frames))).to.equal(true);
      expect(again.traceMask).to.deep.equal(s.traceMask);
      // The clip that puts the traced frame at relIndex (start ti - p * relIndex), augmented with the
      // parameters the same stream draws after the clip start, must be exactly the sample: its frames
      // and the traced frame's mask warped the same way.
      const rng = Rng.derive(42, 0, i);
      randomClipStart(rng, ti, frames.count, T, p);
      const raw = gatherClip(frames, clipIndices(ti - p * s.relIndex, T, p));
      const mask = Float32Array.from(tracingToMask(v.esRows));
      const expected = augmentClip(raw, T, 112, 112, sampleAugParams(rng), mask);
      expect(Buffer.from(expected.frames).equals(Buffer.from(s.frames)), `sample ${i}`).to.equal(true);
      expect(expected.mask).to.deep.equal(s.traceMask);
      expect(Buffer.from(raw).equals(Buffer.from(s.frames))).to.equal(false);
    }
    expect(rels.size).to.be.above(3);
  });

  it('SSL: an unconstrained clip and round_half_up(T * ratio) masked positions', async () => {
    const v = videos[3];
    const frames = await cache.getFrames(v);
    const s = sslSample(v, frames, 32, 1, 0.6, true, Rng.derive(1, 2, 3));
    expect(s.frames.length).to.equal(32 * FB);
    expect(s.keep.filter((k) => k === 0).length).to.equal(19);
    const e = sslSample(v, frames, 32, 1, 0.6, false, Rng.derive(1, 2, 3));
    // Evaluation draws the same start but does not augment: the clip is raw video frames.
    const starts = Array.from({ length: frames.count - 31 }, (_, s0) => s0);
    expect(
      starts.some((s0) =>
        Buffer.from(e.frames).equals(Buffer.from(frames.frames.subarray(s0 * FB, (s0 + 32) * FB))),
      ),
    ).to.equal(true);
  });

  it('lists two weak samples per video (ED then ES) and one SSL sample', () => {
    expect(sampleList(2, 'weak')).to.deep.equal([
      { video: 0, which: 'ed' },
      { video: 0, which: 'es' },
      { video: 1, which: 'ed' },
      { video: 1, which: 'es' },
    ]);
    expect(sampleList(2, 'ssl')).to.deep.equal([{ video: 0 }, { video: 1 }]);
  });

  it('reports a traced frame past the end of the video, naming the file', async () => {
    const v = { ...videos[0], edFrame: 60 };
    const frames = await cache.getFrames(v);
    expect(() => weakSample(v, frames, 'ed', 32, 1, false, new Rng(1))).to.throw(
      `${v.path}: traced ED frame 60 is past the end of the video (60 frames)`,
    );
    expect(() => weakSample(v, frames, 'es', 32, 1, false, new Rng(1))).to.not.throw();
  });

  it('reports frames that are not 112x112, naming the file', async () => {
    const path = join(root, 'Videos', 'small.avi');
    await writeVideo(path, 40, 5, 64);
    const v = { ...videos[0], path };
    const frames = await cache.getFrames(v);
    expect(() => weakSample(v, frames, 'ed', 32, 1, false, new Rng(1))).to.throw(
      `${path}: frames are 64x64, the models need 112x112`,
    );
    expect(() => sslSample(v, frames, 32, 1, 0.6, false, new Rng(1))).to.throw('64x64');
  });

  it('reports a corrupt AVI (garbled bytes) and a truncated AVI, naming the file', async () => {
    const src = videos[0].path;
    const corrupt = join(root, 'Videos', 'corrupt.avi');
    const bytes = readFileSync(src);
    for (let i = 0; i < bytes.length; i += 7) bytes[i] ^= 0x5a;
    writeFileSync(corrupt, bytes);
    expect((await rejection(cache.getFrames({ path: corrupt }))).message).to.contain(corrupt);
    const truncated = join(root, 'Videos', 'truncated.avi');
    writeFileSync(truncated, readFileSync(src).subarray(0, Math.floor(bytes.length / 2)));
    const err = await rejection(cache.getFrames({ path: truncated }));
    expect(err.message).to.contain(truncated);
    expect(err.message).to.match(/truncated|corrupt|not a readable video/);
  });
});

describe('data/samples: clips and masks for models smaller than 112 pixels (--size)', () => {
  it('shrinks a clip by area averaging, frame by frame, and a mask to the pixels more than half inside', () => {
    const T = 2;
    const clip = new Uint8Array(T * 112 * 112 * 3);
    // frame 0 uniform 200; frame 1: left half 0, right half 100
    for (let i = 0; i < 112 * 112; i++) {
      clip.fill(200, 3 * i, 3 * i + 3);
      clip.fill(i % 112 < 56 ? 0 : 100, 112 * 112 * 3 + 3 * i, 112 * 112 * 3 + 3 * i + 3);
    }
    const small = shrinkClip(clip, T, 64);
    expect(small).to.have.length(T * 64 * 64 * 3);
    expect(new Set(small.subarray(0, 64 * 64 * 3))).to.deep.equal(new Set([200]));
    const row = Array.from({ length: 64 }, (_, x) => small[64 * 64 * 3 + 3 * x]);
    expect(row.slice(0, 31)).to.deep.equal(Array(31).fill(0));
    expect(row.slice(33)).to.deep.equal(Array(31).fill(100));
    // a 56x56 square inside: 32x32 of 64x64 pixels, a quarter of the area either way
    const mask = new Float32Array(112 * 112);
    for (let y = 28; y < 84; y++) for (let x = 28; x < 84; x++) mask[y * 112 + x] = 1;
    const m = shrinkMask(mask, 64);
    expect(m.reduce((a, b) => a + b, 0)).to.equal(32 * 32);
    expect(new Set(m)).to.deep.equal(new Set([0, 1]));
  });
});
