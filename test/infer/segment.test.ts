import { expect } from 'chai';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateTruth } from '../../src/infer/batch/aggregate.js';
import { runSegmentSplit } from '../../src/infer/batch/segment-split.js';
import { parseShard } from '../../src/infer/batch/shard.js';
import { splitVideos } from '../../src/infer/batch/split-videos.js';
import { main } from '../../src/cli/main.js';
import { inferenceWindows } from '../../src/data/clips.js';
import { readGroundTruthMasks, type GroundTruth } from '../../src/data/synth/truth.js';
import { decodeVideo, encodeVideo, probeVideo } from '../../src/data/video.js';
import { loadSegmentationModel, type SegmentationModel } from '../../src/infer/model.js';
import {
  scoreAgainstTruth,
  segmentFrames,
  segmentVideo,
  type SegmentSummary,
} from '../../src/infer/segment.js';
import { videoWindows, WindowFusion } from '../../src/infer/windows.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { add, cast, slice, squeeze, sub } from '../../src/onnx/ops/index.js';
import { encodeGraph } from '../../src/onnx/serialize.js';
import { fixtureVideoNames, synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-segment');

/**
 * logits = R - 128 + offsets[clip position]: known per frame, and dependent on the window layout when offsets
 * differ.
 */
async function knownModel(
  frames: number,
  size: number,
  offsets = new Array<number>(frames).fill(0.5),
): Promise<SegmentationModel> {
  const b = new GraphBuilder();
  const x = b.input('frames', 'uint8', ['N', frames, size, size, 3]);
  const red = squeeze(slice(cast(x, 'float32'), [0], [1], [4]), [4]);
  b.output(
    add(sub(red, 128), b.constant(Float32Array.from(offsets), 'float32', [1, frames, 1, 1])),
    'logits',
  );
  Object.assign(b.metadata, { encoder: 'known', frames: String(frames), period: '1', size: String(size) });
  const path = join(tmp('model'), 'model.onnx');
  writeFileSync(path, encodeGraph(b.toGraph('known')));
  return loadSegmentationModel({ model: path, threads: 1 });
}

/** A video held in memory whose every frame is one gray level. */
function grayVideo(levels: number[], size: number) {
  const plane = size * size * 3;
  const frames = new Uint8Array(levels.length * plane);
  levels.forEach((v, f) => frames.fill(v, f * plane, (f + 1) * plane));
  return { frames, count: levels.length, height: size, width: size, fps: 25 };
}

const perFrame = (masks: Uint8Array, plane: number) =>
  Array.from({ length: masks.length / plane }, (_, f) => masks[f * plane]);
const quiet = () => undefined;

/** A detected beat with only its ED and ES frames set. */
const beat = (ed: number, es: number) => ({ ed, es, edArea: 0, esArea: 0, edVolume: 0, esVolume: 0, ef: 0 });

/** Synthetic ground truth at 50 fps and 60 bpm (a beat of 50 frames) with the given frames and masks. */
const truthOf = (
  frames: number,
  height: number,
  width: number,
  edFrames: number[],
  esFrames: number[],
  masks: Uint8Array,
): GroundTruth => ({
  frames,
  height,
  width,
  fps: 50,
  edFrames,
  esFrames,
  tracedEd: edFrames[0],
  tracedEs: esFrames[0],
  efTrue: 60,
  edv: 1,
  esv: 0.4,
  heartRate: 60,
  masks,
});

describe('infer/segment (upstream seg_3d_inference.py and beyond)', function () {
  it('windows: upstream layout (reference values); overlap at half stride, last aligned to the end; padding for short videos', function () {
    const starts = (count: number, T: number, p: number, mode: 'upstream' | 'overlap') =>
      videoWindows(count, T, p, mode).map((w) => w[0]);
    expect(starts(100, 32, 1, 'upstream')).to.deep.equal([0, 32, 64, 68]);
    expect(starts(130, 32, 2, 'upstream')).to.deep.equal([0, 1, 64, 65, 66, 67]);
    expect(videoWindows(70, 32, 1, 'upstream')).to.deep.equal(inferenceWindows(70, 32, 1));
    expect(starts(20, 32, 1, 'upstream')).to.deep.equal([0]);
    expect(starts(100, 32, 1, 'overlap')).to.deep.equal([0, 16, 32, 48, 64, 68]);
    expect(starts(130, 32, 2, 'overlap')).to.deep.equal([0, 1, 32, 33, 64, 65, 66, 67]);
    const cover = new Array<number>(130).fill(0);
    for (const w of videoWindows(130, 32, 2, 'overlap')) for (const f of w) cover[f]++;
    expect(Math.min(...cover)).to.be.at.least(1);
    expect(cover.slice(32, 66).every((c) => c === 2)).to.equal(true); // bases 0, 32, 64 and the end-aligned 66
  });

  it("fusion: upstream keeps the last window's threshold, overlap averages probabilities before 0.5", function () {
    const run = (mode: 'upstream' | 'overlap') => {
      const f = new WindowFusion(3, 1, mode);
      f.add([0, 1, 2], Float32Array.of(3, -3, -0.2));
      f.add([1, 2, 5], Float32Array.of(1, -2, 9)); // frame 5 is padding: dropped
      return Array.from(f.result());
    };
    // frame 1: -3 then 1 -> last wins 1; mean(σ(-3), σ(1)) = 0.39 -> 0. frame 2: -0.2 then -2 -> 0 either
    // way.
    expect(run('upstream')).to.deep.equal([1, 1, 0]);
    expect(run('overlap')).to.deep.equal([1, 0, 0]);
    const gap = new WindowFusion(2, 1, 'upstream');
    gap.add([0], Float32Array.of(1));
    expect(() => gap.result()).to.throw(/frame 1 was not covered/);
  });

  it('segmentFrames with a model whose output depends on the clip position: last-wins and averaging give the hand-computed masks', async function () {
    // logits = b[position] on gray 128 frames; 6 frames, T = 4: windows start at 0 and 2 in both modes.
    const model = await knownModel(4, 8, [-0.5, 2, 3, -1]);
    const video = grayVideo([128, 128, 128, 128, 128, 128], 8);
    const upstream = await segmentFrames(video, model, 'upstream', 1);
    const overlap = await segmentFrames(video, model, 'overlap', 2);
    expect(upstream.windows.map((w) => w[0])).to.deep.equal([0, 2]);
    // frame 2: b[2]=3 then b[0]=-0.5 -> last wins 0, mean σ = 0.67 -> 1; frame 3: b[3]=-1 then b[1]=2 -> 1
    // both.
    expect(perFrame(upstream.masks, 64)).to.deep.equal([0, 1, 0, 1, 1, 0]);
    expect(perFrame(overlap.masks, 64)).to.deep.equal([0, 1, 1, 1, 1, 0]);
    // A 3-frame video is padded with black to T = 4; only the 3 real frames come back.
    const short = await segmentFrames(grayVideo([200, 10, 200], 8), model, 'upstream');
    expect(perFrame(short.masks, 64)).to.deep.equal([1, 0, 1]);
    await model.release();
  });

  describe('on a synthetic video', function () {
    let data: string;
    let name: string;
    let model: SegmentationModel;
    let s: SegmentSummary;
    const out = tmp('one');
    before(async function () {
      data = await synthDataset();
      name = fixtureVideoNames(data)[0];
      model = await knownModel(16, 112);
      s = await segmentVideo(
        { videoPath: join(data, 'Videos', name), outDir: out, model, truthDir: data },
        quiet,
      );
    });
    after(async () => model.release());

    it('mask.avi holds exactly the 0/255 masks of every real frame at the source fps', async function () {
      const src = await decodeVideo(join(data, 'Videos', name));
      const masks = await decodeVideo(join(out, 'mask.avi'));
      expect([masks.count, masks.width, masks.height, masks.fps]).to.deep.equal([
        src.count,
        112,
        112,
        src.fps,
      ]);
      let wrong = 0;
      let inside = 0;
      for (let i = 0; i < src.frames.length; i += 3) {
        const want = src.frames[i] >= 128 ? 255 : 0;
        if (masks.frames[i] !== want || masks.frames[i + 1] !== want || masks.frames[i + 2] !== want) wrong++;
        if (want) inside++;
      }
      expect(wrong).to.equal(0);
      expect(inside, 'both values occur, so the comparison can fail').to.be.within(
        1,
        src.frames.length / 3 - 1,
      );
      expect((await probeVideo(join(out, 'overlay.mp4'))).frames).to.equal(src.count);
    });

    it('frames.csv, summary.json and area.svg agree with the masks and the cardiac analysis', function () {
      const rows = readFileSync(join(out, 'frames.csv'), 'utf8').trim().split('\n');
      expect(rows[0]).to.equal('frame,time_s,area_px,smoothed_area_px,is_ed,is_es');
      expect(rows).to.have.length(s.frames + 1);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary.frames).to.equal(s.frames);
      expect(summary.windows).to.include({ mode: 'upstream', T: 16, count: s.windows.count });
      expect(summary.resize).to.equal(null);
      const edRows = rows
        .slice(1)
        .filter((r) => r.split(',')[4] === '1')
        .map((r) => Number(r.split(',')[0]));
      expect(edRows).to.deep.equal(s.beats.map((b) => b.ed));
      const svg = readFileSync(join(out, 'area.svg'), 'utf8');
      expect(svg.startsWith('<svg')).to.equal(true);
      expect(svg.match(/<title>ED frame/g)?.length ?? 0).to.equal(s.beats.length);
      const truth = readGroundTruthMasks(data, name);
      expect(summary.truth.efTrue).to.equal(truth.efTrue);
      expect(summary.truth.dsc).to.be.within(0, 1);
    });
  });

  it('scoreAgainstTruth: pooled all-frame DSC, nearest-frame ED/ES errors, EF error', function () {
    const gtMasks = Uint8Array.of(1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0);
    const pred = Uint8Array.of(1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1);
    const truth = truthOf(3, 2, 2, [10, 40], [25], gtMasks);
    const t = scoreAgainstTruth(pred, 3, 2, 2, { beats: [beat(12, 24), beat(36, 27)], meanEf: 52.5 }, truth);
    // I = 1 + 3 + 0, U = 2 + 4 + 1: DSC = 2*4 / (7 + 4).
    expect([t.intersectionPx, t.unionPx]).to.deep.equal([4, 7]);
    expect(t.dsc).to.be.closeTo(8 / 11, 1e-12);
    expect(t.edErrors).to.deep.equal([2, -4]);
    expect(t.esErrors).to.deep.equal([-1, 2]);
    expect([t.meanAbsEdError, t.meanAbsEsError, t.efAbsError]).to.deep.equal([3, 1.5, 7.5]);
    expect(() => scoreAgainstTruth(pred, 3, 1, 4, { beats: [], meanEf: NaN }, truth)).to.throw(
      /ground truth is 2x2/,
    );
    const none = scoreAgainstTruth(
      pred,
      3,
      2,
      2,
      { beats: [], meanEf: NaN },
      { ...truth, masks: new Uint8Array(12) },
    );
    expect([none.meanAbsEdError, none.efPredicted, none.efAbsError]).to.deep.equal([null, null, null]);
  });

  it('scoreAgainstTruth counts missed and spurious ED/ES detections (quarter-beat tolerance); the batch aggregate counts videos without a beat', function () {
    // 100 frames at 50 fps and 60 bpm: one beat is 50 frames, the tolerance 12.5 frames.
    const truth = truthOf(100, 1, 1, [5, 55, 99], [30, 80], new Uint8Array(100).fill(1));
    const masks = new Uint8Array(100).fill(1);
    // ED 57 finds 55; ED 20 is 15 frames from 5: spurious, and 5 is missed. ES 78 and 31 find 80 and 30.
    // The last true ED (frame 99, no ES after it) cannot be detected and is not counted.
    const t = scoreAgainstTruth(masks, 100, 1, 1, { beats: [beat(20, 31), beat(57, 78)], meanEf: 50 }, truth);
    expect(t.beatsDetected).to.equal(2);
    expect(t.ed).to.deep.equal({ countable: 2, missed: 1, spurious: 1 });
    expect(t.es).to.deep.equal({ countable: 2, missed: 0, spurious: 0 });
    const none = scoreAgainstTruth(masks, 100, 1, 1, { beats: [], meanEf: NaN }, truth);
    expect([none.beatsDetected, none.ed.missed, none.es.missed, none.meanAbsEdError]).to.deep.equal([
      0,
      2,
      2,
      null,
    ]);
    const summary = (truthScore: typeof t) => ({ truth: truthScore }) as unknown as SegmentSummary;
    const agg = aggregateTruth([summary(t), summary(none)])!;
    expect(agg.videosWithoutBeat).to.equal(1);
    expect(agg.ed).to.deep.equal({ countable: 4, missed: 3, spurious: 1 });
    expect(agg.es).to.deep.equal({ countable: 4, missed: 2, spurious: 0 });
    expect(agg.efAbsError.n).to.equal(1); // the video without a beat has no EF
  });

  it('a 128x96 video: --no-crop squashes the whole frame (noted), the default pads its changing region to a square; masks come back at 128x96 either way', async function () {
    const dir = tmp('resize');
    const levels = Array.from({ length: 10 }, (_, f) => (f % 2 ? 200 : 30));
    const frames = new Uint8Array(10 * 96 * 128 * 3);
    levels.forEach((v, f) => frames.fill(v, f * 96 * 128 * 3, (f + 1) * 96 * 128 * 3));
    await encodeVideo(join(dir, 'wide.mkv'), frames, { width: 128, height: 96, fps: 30, codec: 'ffv1' });
    const model = await knownModel(4, 16);
    const notes: string[] = [];
    const squashed = await segmentVideo(
      { videoPath: join(dir, 'wide.mkv'), outDir: join(dir, 'out'), model, overlap: true, crop: false },
      (m) => notes.push(m),
    );
    const padded = await segmentVideo(
      { videoPath: join(dir, 'wide.mkv'), outDir: join(dir, 'pad'), model, overlap: true },
      (m) => notes.push(m),
    );
    await model.release();
    expect(squashed.source).to.include({ width: 128, height: 96 });
    expect(squashed.resize).to.match(
      /--no-crop: whole 128x96 frames resized to 16x16 \(aspect ratio not kept\)/,
    );
    expect(notes.join()).to.contain('128x96');
    expect(JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')).resize).to.equal(
      squashed.resize,
    );
    // Every pixel changes over time, so the whole frame is the "sector": a 128-pixel square from
    // the top, 32 rows of padding below, 8 native pixels per model pixel.
    expect(padded.preprocessing).to.deep.include({
      mode: 'sector',
      crop: { x: 0, y: 0, w: 128, h: 128 },
      scale: { x: 8, y: 8 },
    });
    for (const out of ['out', 'pad']) {
      const masks = await decodeVideo(join(dir, out, 'mask.avi'));
      expect([masks.width, masks.height, masks.count]).to.deep.equal([128, 96, 10]);
      for (let f = 0; f < 10; f++) {
        const want = levels[f] > 128 ? 255 : 0;
        const plane = masks.frames.subarray(f * 128 * 96 * 3, (f + 1) * 128 * 96 * 3);
        expect(
          plane.every((v) => v === want),
          `${out} frame ${f}`,
        ).to.equal(true);
      }
    }
  });

  it('batch mode: each video in its folder, a bad video reported in failures.csv and skipped, aggregate truth scores', async function () {
    const data = await synthDataset();
    const root = tmp('batch');
    mkdirSync(join(root, 'Videos'));
    const names = fixtureVideoNames(data)
      .slice(0, 2)
      .map((f) => f.replace(/\.avi$/, ''));
    for (const n of names) copyFileSync(join(data, 'Videos', `${n}.avi`), join(root, 'Videos', `${n}.avi`));
    writeFileSync(join(root, 'Videos', 'BROKEN.avi'), 'not a video');
    const list = [
      'FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split',
      ...[names[0], 'BROKEN', names[1]].map((n) => `${n},50,10,20,112,112,50,40,TEST`),
    ];
    writeFileSync(join(root, 'FileList.csv'), list.join('\n') + '\n');
    const model = await knownModel(16, 112);
    const out = tmp('batch-out');
    const r = await runSegmentSplit({ dataPath: root, saveDir: out, model, truthDir: data, progress: false });
    await model.release();
    expect([r.videos, r.processed, r.failed]).to.deep.equal([3, 2, 1]);
    const failures = readFileSync(join(out, 'failures.csv'), 'utf8').trim().split('\n');
    expect(failures).to.have.length(2);
    expect(failures[0]).to.equal('file,problem');
    expect(failures[1].startsWith(`${join(root, 'Videos', 'BROKEN.avi')},`)).to.equal(true);
    for (const n of names)
      expect(readdirSync(join(out, n)).sort()).to.deep.equal([
        'area.svg',
        'contours.json',
        'frames.csv',
        'mask.avi',
        'overlay.mp4',
        'summary.json',
      ]);
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv.slice(1).map((l) => l.split(',')[0])).to.deep.equal(names.map((n) => `${n}.avi`));
    const per = names.map(
      (n) => JSON.parse(readFileSync(join(out, n, 'summary.json'), 'utf8')) as SegmentSummary,
    );
    const sums = per.map((p) => p.truth as { intersectionPx: number; unionPx: number; efAbsError: number });
    const inter = sums[0].intersectionPx + sums[1].intersectionPx;
    const union = sums[0].unionPx + sums[1].unionPx;
    expect(r.truth!.dscAllFrames).to.be.closeTo((2 * inter) / (union + inter), 1e-12);
    expect(r.truth!.efMae).to.be.closeTo((sums[0].efAbsError + sums[1].efAbsError) / 2, 1e-12);
    expect(aggregateTruth(per)!.videos).to.equal(2);
    const saved = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(saved.truth.dscAllFrames).to.equal(r.truth!.dscAllFrames);
  });

  it('shards split the video list without overlap; bad --shard values are refused', async function () {
    const data = await synthDataset();
    const all = splitVideos(data, 'all');
    const parts = [0, 1, 2].map((i) => splitVideos(data, 'all', { index: i, count: 3 }));
    expect(
      parts
        .flat()
        .map((v) => v.name)
        .sort(),
    ).to.deep.equal(all.map((v) => v.name).sort());
    expect(parts[1].map((v) => v.name)).to.deep.equal(all.filter((_, k) => k % 3 === 1).map((v) => v.name));
    expect(parseShard('1/4')).to.deep.equal({ index: 1, count: 4 });
    for (const bad of ['4/4', '1', '-1/2', 'a/b'])
      expect(() => parseShard(bad)).to.throw(/--shard takes i\/n/);
  });

  it('segment-video CLI on one video with the tiny 3D U-Net writes every output', async function () {
    const data = await synthDataset();
    const set = await tinyArtifactSet();
    const out = tmp('cli');
    const video = join(data, 'Videos', fixtureVideoNames(data)[1]);
    await main([
      'node',
      'unilvseg',
      'segment-video',
      '--video_path',
      video,
      '--save_path',
      out,
      '--model',
      set.dir,
      '--overlap',
      '--truth',
      data,
      '--threads',
      '1',
    ]);
    expect(readdirSync(out).sort()).to.deep.equal([
      'area.svg',
      'contours.json',
      'frames.csv',
      'mask.avi',
      'overlay.mp4',
      'segment.jsonl',
      'summary.json',
    ]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.windows.mode).to.equal('overlap');
    expect(summary.truth).to.have.property('dsc');
  });
});
