import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchLoader, type LoaderOptions, type SslBatch, type WeakBatch } from '../../src/data/loader.js';
import { FrameCache } from '../../src/data/cache.js';
import { openEchoNet, type EchoVideo } from '../../src/data/echonet.js';
import { makeEchoNetMini, writeVideo } from '../fixtures/echonet-mini/make.js';
import type { Phase } from '../../src/defaults.js';

const FB = 112 * 112 * 3;

async function collect<P extends Phase>(opts: LoaderOptions<P>, epoch = 0, start = 0) {
  const loader = new BatchLoader(opts);
  const out = [];
  try {
    for await (const b of loader.epoch(epoch, start)) out.push(b);
  } finally {
    await loader.close();
  }
  return out;
}

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('data/loader: batches for the ONNX train graphs', () => {
  let root: string;
  let cleanup: () => void;
  let videos: EchoVideo[];
  let cacheDir: string;
  before(async () => {
    ({ root, cleanup } = await makeEchoNetMini());
    videos = openEchoNet(root, 'all'); // 4 videos
    cacheDir = join(root, '.cache');
  });
  after(() => cleanup());
  const base = () => ({ videos, cacheDir, frames: 8, period: 2, batchSize: 3 });

  it('weak evaluation batches: ED then ES per video in order, shaped [N,T,H,W,3] / [N,H,W] / [N]', async () => {
    const batches = (await collect({ ...base(), phase: 'weak', train: false })) as WeakBatch[];
    expect(batches.map((b) => b.items.length)).to.deep.equal([3, 3, 2]);
    const items = batches.flatMap((b) => b.items);
    expect(items.map((i) => `${i.fileName.slice(-5, -4)}:${i.which}:${i.traceFrame}`)).to.deep.equal([
      '1:ed:40',
      '1:es:12',
      '2:ed:5',
      '2:es:30',
      '3:ed:3',
      '3:es:20',
      '4:ed:10',
      '4:es:44',
    ]);
    const b = batches[0];
    expect(b.frames.length).to.equal(3 * 8 * FB);
    expect(b.trace_mask.length).to.equal(3 * 112 * 112);
    expect(b.trace_index).to.be.instanceOf(BigInt64Array);
    // T 8, p 2. 1:ed, ti 40 of 60: centred start 40 - 8 = 32, rel 4. 1:es, ti 12: start 4,
    // rel 4. 2:ed, ti 5: start -3 shifted up to the first aligned start 1, rel 2.
    expect([...b.trace_index]).to.deep.equal([4n, 4n, 2n]);
    const decoded = await new FrameCache(cacheDir).getFrames(videos[0]);
    for (let k = 0; k < 8; k++) {
      const want = decoded.frames.subarray((32 + 2 * k) * FB, (33 + 2 * k) * FB);
      expect(same(b.frames.subarray(k * FB, (k + 1) * FB), want)).to.equal(true);
    }
  });

  it('drops the last partial batch with dropLast', async () => {
    const batches = await collect({ ...base(), phase: 'weak', train: false, dropLast: true });
    expect(batches.map((b) => b.items.length)).to.deep.equal([3, 3]);
  });

  it('SSL batches: one sample per video, keep [N,T] with round_half_up(T*ratio) zeros each', async () => {
    const batches = (await collect({
      ...base(),
      phase: 'ssl',
      train: true,
      maskRatio: 0.5,
      batchSize: 4,
    })) as SslBatch[];
    expect(batches).to.have.length(1);
    expect(batches[0].frames.length).to.equal(4 * 8 * FB);
    expect(batches[0].keep.length).to.equal(4 * 8);
    for (let n = 0; n < 4; n++)
      expect(batches[0].keep.subarray(8 * n, 8 * n + 8).filter((k) => k === 0).length).to.equal(4);
  });

  it('gives identical batches with 0 and 2 workers (sample RNG from seed, epoch, index)', async () => {
    const opts = { ...base(), phase: 'weak' as const, train: true, shuffle: true, seed: 7 };
    const a = (await collect({ ...opts, numWorkers: 0 }, 3)) as WeakBatch[];
    const b = (await collect({ ...opts, numWorkers: 2, prefetch: 1 }, 3)) as WeakBatch[];
    expect(a.length).to.equal(b.length);
    for (let i = 0; i < a.length; i++) {
      expect(b[i].items).to.deep.equal(a[i].items);
      expect(same(a[i].frames, b[i].frames)).to.equal(true);
      expect(same(a[i].trace_mask, b[i].trace_mask)).to.equal(true);
      expect([...b[i].trace_index]).to.deep.equal([...a[i].trace_index]);
    }
  });

  it('shuffles per epoch, reproducibly, and resumes mid-epoch at a batch index', async () => {
    const opts = { ...base(), phase: 'weak' as const, train: true, shuffle: true, seed: 11, batchSize: 2 };
    const order = (bs: WeakBatch[]) => bs.flatMap((b) => b.items.map((i) => `${i.fileName}:${i.which}`));
    const e0 = (await collect(opts, 0)) as WeakBatch[];
    const e1 = (await collect(opts, 1)) as WeakBatch[];
    expect(order(e0)).to.have.members(order(e1));
    expect(order(e0)).to.not.deep.equal(order(e1));
    const again = (await collect(opts, 0)) as WeakBatch[];
    expect(order(again)).to.deep.equal(order(e0));
    const resumed = (await collect(opts, 0, 2)) as WeakBatch[];
    expect(resumed).to.have.length(e0.length - 2);
    for (let i = 0; i < resumed.length; i++) {
      expect(resumed[i].items).to.deep.equal(e0[i + 2].items);
      expect(same(resumed[i].frames, e0[i + 2].frames)).to.equal(true);
    }
  });

  it('reports a corrupt video and a traced frame past the end once each, skips them, fills batches from the rest', async () => {
    const corrupt = join(root, 'Videos', 'corrupt.avi');
    const bytes = readFileSync(videos[0].path);
    for (let i = 0; i < bytes.length; i += 5) bytes[i] ^= 0xa5;
    writeFileSync(corrupt, bytes);
    const short = join(root, 'Videos', 'short.avi');
    await writeVideo(short, 30, 8); // its ED trace (frame 40) is past the end; ES (12) is fine
    const bad = [
      { ...videos[0], fileName: 'corrupt.avi', path: corrupt },
      { ...videos[0], fileName: 'short.avi', path: short },
    ];
    const reports: string[] = [];
    for (const numWorkers of [0, 2]) {
      reports.length = 0;
      const loader = new BatchLoader({
        ...base(),
        videos: [bad[0], ...videos, bad[1]],
        phase: 'weak',
        train: false,
        batchSize: 4,
        numWorkers,
        onBadItem: (f, p) => reports.push(`${f} | ${p}`),
      });
      const epochs: WeakBatch[][] = [];
      for (let e = 0; e < 2; e++) {
        const bs: WeakBatch[] = [];
        for await (const b of loader.epoch(e)) bs.push(b);
        epochs.push(bs);
      }
      await loader.close();
      expect(reports).to.have.length(2);
      expect(reports[0]).to.match(new RegExp(`^${corrupt} \\| not a readable video`));
      expect(reports[1]).to.equal(`${short} | traced ED frame 40 is past the end of the video (30 frames)`);
      for (const bs of epochs) {
        // 8 good samples in full batches of 4; the short video's ES sample, after its ED failed,
        // is skipped too so a bad video never contributes half its samples.
        expect(bs.map((b) => b.items.length)).to.deep.equal([4, 4]);
        expect(bs.flatMap((b) => b.items.map((i) => i.fileName))).to.not.include.members([
          'corrupt.avi',
          'short.avi',
        ]);
      }
      expect(loader.badFiles().sort()).to.deep.equal([corrupt, short].sort());
    }
  });

  it('prepares the next batches while the consumer is busy (prefetch)', async () => {
    const loader = new BatchLoader({
      ...base(),
      phase: 'weak',
      train: true,
      batchSize: 2,
      numWorkers: 1,
      prefetch: 2,
    });
    try {
      const it = loader.epoch(0);
      await it.next(); // first batch: worker start-up and all
      await new Promise((r) => setTimeout(r, 1500)); // the "ORT step"
      const t0 = performance.now();
      const [b1, b2] = [await it.next(), await it.next()];
      expect(performance.now() - t0).to.be.below(100); // both were ready
      expect(b1.done || b2.done).to.equal(false);
      await it.return(undefined);
    } finally {
      await loader.close();
    }
  });

  it('skips videos known bad from a previous run without reporting them', async () => {
    const reports: string[] = [];
    const batches = await collect({
      ...base(),
      phase: 'ssl',
      train: false,
      batchSize: 8,
      knownBad: [videos[1].path],
      onBadItem: (f) => reports.push(f),
    });
    expect(batches[0].items.map((i) => i.fileName)).to.deep.equal(
      [videos[0], videos[2], videos[3]].map((v) => v.fileName),
    );
    expect(reports).to.deep.equal([]);
  });
});
