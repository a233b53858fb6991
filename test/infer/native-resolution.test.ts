import { expect } from 'chai';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resampleRect } from '../../src/data/resample.js';
import { scannerCanvas, type ScannerLayout, type ScannerVideo } from '../../src/data/synth/scanner.js';
import { readGroundTruthMasks, type GroundTruth } from '../../src/data/synth/truth.js';
import { decodeVideo, encodeVideo, type DecodedVideo } from '../../src/data/video.js';
import { analyzeCardiac } from '../../src/infer/cardiac/index.js';
import {
  masksToNative,
  planMapping,
  toModelFrames,
  type FrameMapping,
} from '../../src/infer/frame-mapping.js';
import { loadSegmentationModel, type SegmentationModel } from '../../src/infer/model.js';
import { segmentVideo } from '../../src/infer/segment.js';
import { main } from '../../src/cli/main.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { add, cast, slice, squeeze, sub } from '../../src/onnx/ops/index.js';
import { encodeGraph } from '../../src/onnx/serialize.js';
import { fixtureVideoNames, synthDataset } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-native');
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dicom/', import.meta.url));

/** An ONNX model whose logits are R - 127.5: it "segments" whatever the red channel marks. Returns its path. */
function writeRedChannelModel(frames: number, size: number): string {
  const b = new GraphBuilder();
  const x = b.input('frames', 'uint8', ['N', frames, size, size, 3]);
  const red = squeeze(slice(cast(x, 'float32'), [0], [1], [4]), [4]);
  b.output(add(sub(red, 128), b.constant(Float32Array.of(0.5), 'float32', [1])), 'logits');
  Object.assign(b.metadata, { encoder: 'red', frames: String(frames), period: '1', size: String(size) });
  const path = join(tmp('model'), 'model.onnx');
  writeFileSync(path, encodeGraph(b.toGraph('red')));
  return path;
}

const redChannelModel = (frames: number, size: number): Promise<SegmentationModel> =>
  loadSegmentationModel({ model: writeRedChannelModel(frames, size), threads: 1 });

/**
 * The echo with its LV marked in red for redChannelModel: grey levels capped at 100 elsewhere,
 * red 255 inside the LV (the other channels keep the echo).
 */
function markCavity(frames: Uint8Array, masks: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frames, (v) => Math.min(v, 100));
  for (let i = 0; i < masks.length; i++) if (masks[i]) out[3 * i] = 255;
  return out;
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] && b[i] ? 1 : 0;
    sum += (a[i] ? 1 : 0) + (b[i] ? 1 : 0);
  }
  return (2 * inter) / sum;
}

/** Truth masks pushed forward through the same crop/resize as the frames (thresholded at 1/2), as 0/1 probabilities. */
function truthToModel(masks: Uint8Array, count: number, m: FrameMapping): Float32Array {
  const plane = m.width * m.height;
  const S = m.size;
  const out = new Float32Array(count * S * S);
  for (let f = 0; f < count; f++) {
    const src = Uint8Array.from(masks.subarray(f * plane, (f + 1) * plane), (v, i) =>
      v && (!m.sector || m.sector[i]) ? 255 : 0,
    );
    const r = resampleRect(src, m.height, m.width, 1, m.rect, S, S);
    for (let i = 0; i < S * S; i++) out[f * S * S + i] = r[i] >= 128 ? 1 : 0;
  }
  return out;
}

const LAYOUT: ScannerLayout = { width: 640, height: 480, x: 250, y: 40, size: 336 };

describe('infer: EchoNet-style preprocessing and results at native resolution', function () {
  let video: DecodedVideo;
  let truth: GroundTruth;
  let canvas: ScannerVideo;
  let mapping: FrameMapping;
  let mappingNote: string;

  before(async function () {
    const data = await synthDataset();
    const name = fixtureVideoNames(data)[0];
    video = await decodeVideo(join(data, 'Videos', name));
    truth = readGroundTruthMasks(data, name);
    canvas = scannerCanvas(video, LAYOUT, truth.masks);
    const planned = planMapping(canvas, 112);
    mapping = planned.mapping;
    mappingNote = planned.summary.note;
  });

  it('finds the sector of a picture placed off-centre in a 640x480 canvas with text, a depth scale, a clock and an ECG strip', function () {
    expect(mapping.mode, mappingNote).to.equal('sector');
    // The fan fills the picture's width and nearly its height (its apex at the top).
    const r = mapping.rect;
    expect(Math.abs(r.x - LAYOUT.x), `crop ${JSON.stringify(r)}`).to.be.at.most(3);
    expect(Math.abs(r.y - LAYOUT.y), `crop ${JSON.stringify(r)}`).to.be.at.most(3);
    expect(Math.abs(r.w - LAYOUT.size), `crop ${JSON.stringify(r)}`).to.be.at.most(6);
    expect(r.w).to.equal(r.h);
    // Overlays are outside the sector: text (top left), the clock (top right), the ECG strip, and
    // the label in the picture square's corner beside the fan.
    const at = (x: number, y: number) => mapping.sector![y * LAYOUT.width + x];
    expect([at(10, 10), at(620, 8), at(320, 460), at(LAYOUT.x + 14, LAYOUT.y + 10)]).to.deep.equal([
      0, 0, 0, 0,
    ]);
    expect(at(LAYOUT.x + 168, LAYOUT.y + 160)).to.equal(1);
  });

  it("the model's input blanks what lies outside the sector: the label in the picture square's corner is gone", function () {
    const input = toModelFrames(canvas, mapping);
    const S = 112;
    // The label sits in the top-left 30x15 model pixels of the crop, outside the fan.
    let lit = 0;
    for (let f = 0; f < input.count; f++)
      for (let y = 0; y < 15; y++)
        for (let x = 0; x < 30; x++) lit += input.frames[3 * (f * S * S + y * S + x)] > 60 ? 1 : 0;
    expect(lit).to.equal(0);
    const unblanked = toModelFrames(canvas, { ...mapping, sector: null });
    let litWithout = 0;
    for (let y = 0; y < 15; y++)
      for (let x = 0; x < 30; x++) litWithout += unblanked.frames[3 * (y * S + x)] > 60 ? 1 : 0;
    expect(litWithout, 'the label would be there without blanking').to.be.greaterThan(5);
  });

  it('true masks pushed through the crop/resize and back overlap the true cavity at 640x480 (Dice >= 0.97, a 2-pixel shift fails), and give the 112x112 EF within 2 points', function () {
    const model = truthToModel(canvas.masks!, canvas.count, mapping);
    const binary = Uint8Array.from(model, (p) => (p >= 0.5 ? 1 : 0));
    expect(dice(binary, truth.masks), 'forward mapping lands on the 112x112 truth').to.be.at.least(0.9);
    const native = masksToNative(model, binary, canvas.count, mapping);
    expect(dice(native, canvas.masks!)).to.be.at.least(0.97);
    const at112 = analyzeCardiac(truth.masks, truth.frames, 112, 112, truth.fps, { convention: 'area' });
    const at640 = analyzeCardiac(native, canvas.count, 480, 640, canvas.fps, {
      convention: 'area',
      spacing: { x: 0.3, y: 0.3 },
    });
    expect(at640.beats.length).to.be.at.least(1);
    expect(at640.beats.map((b) => b.ed)).to.deep.equal(at112.beats.map((b) => b.ed));
    expect(Math.abs(at640.meanEf - at112.meanEf)).to.be.at.most(2);
    // One 112-grid pixel is 3 native pixels of 0.3 mm: 0.9 mm.
    const b = at640.beats[0];
    expect(b.edVolumeMl! / ((at112.beats[0].edVolume * 0.9 ** 3) / 1000)).to.be.within(0.95, 1.05);
    expect(b.edAreaCm2! / ((at112.beats[0].edArea * 0.81) / 100)).to.be.within(0.95, 1.05);
  });

  it('anisotropic pixels (0.3 mm across, 0.4 mm down, picture squashed to 336x252): volumes in mL and EF as with square pixels', function () {
    const squashed = scannerCanvas(video, { ...LAYOUT, h: 252 }, truth.masks);
    const { mapping: m } = planMapping(squashed, 112);
    expect(m.mode).to.equal('sector');
    const model = truthToModel(squashed.masks!, squashed.count, m);
    const native = masksToNative(
      model,
      Uint8Array.from(model, (p) => (p >= 0.5 ? 1 : 0)),
      squashed.count,
      m,
    );
    expect(dice(native, squashed.masks!)).to.be.at.least(0.97);
    const at112 = analyzeCardiac(truth.masks, truth.frames, 112, 112, truth.fps, { convention: 'area' });
    const a = analyzeCardiac(native, squashed.count, 480, 640, squashed.fps, {
      convention: 'area',
      spacing: { x: 0.3, y: 0.4 },
    });
    expect(Math.abs(a.meanEf - at112.meanEf)).to.be.at.most(2);
    expect(a.beats[0].edVolumeMl! / ((at112.beats[0].edVolume * 0.9 ** 3) / 1000)).to.be.within(0.95, 1.05);
  });

  it('segment-video end to end (ONNX model reading a red-marked cavity): 640x480 masks overlap the truth, EF of the 112x112 video within 1.2 points, areas in cm^2 and volumes in mL with --pixel_spacing_mm, contours at 640x480', async function () {
    const dir = tmp('e2e');
    const model = await redChannelModel(16, 112);
    const small = join(dir, 'small.mkv');
    const big = join(dir, 'big.mkv');
    await encodeVideo(small, markCavity(video.frames, truth.masks), { ...video, codec: 'ffv1' });
    await encodeVideo(big, markCavity(canvas.frames, canvas.masks!), { ...canvas, codec: 'ffv1' });
    const s112 = await segmentVideo({ videoPath: small, outDir: join(dir, 'small'), model }, () => undefined);
    const s640 = await segmentVideo(
      { videoPath: big, outDir: join(dir, 'big'), model, pixelSpacingMm: { x: 0.3, y: 0.3 } },
      () => undefined,
    );
    await model.release();
    expect(s112.preprocessing?.mode).to.equal('identity');
    expect(s640.preprocessing?.mode).to.equal('sector');
    const masks = await decodeVideo(join(dir, 'big', 'mask.avi'));
    expect([masks.width, masks.height, masks.count]).to.deep.equal([640, 480, canvas.count]);
    const native = Uint8Array.from({ length: masks.frames.length / 3 }, (_, i) =>
      masks.frames[3 * i] ? 1 : 0,
    );
    const d = dice(native, canvas.masks!);
    expect(d).to.be.at.least(0.9);
    expect(s112.meanEf).to.be.a('number');
    // The issue asks for 2 points; mapping the tracing convention's corrections to native pixels
    // keeps it within 1.2 (0.7 here; 1.7 without).
    expect(Math.abs(s640.meanEf! - s112.meanEf!)).to.be.at.most(1.2);
    expect(s640.units).to.deep.include({ area: 'cm^2', volume: 'mL' });
    expect(s640.spacing).to.deep.equal({ x: 0.3, y: 0.3, source: 'command line' });
    expect(s640.meanEdvMl! / ((s112.beats[0].edVolume * 0.9 ** 3) / 1000)).to.be.within(0.93, 1.07);
    expect(s112.units?.note).to.match(/no pixel spacing.*EF only/);
    const rows = readFileSync(join(dir, 'big', 'frames.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(rows[0]).to.equal('frame,time_s,area_px,smoothed_area_px,is_ed,is_es,area_cm2,smoothed_area_cm2');
    const [, , px, , , , cm2] = rows[1].split(',').map(Number);
    expect(cm2).to.be.closeTo((px * 0.09) / 100, 1e-4);
    expect((await decodeVideo(join(dir, 'big', 'overlay.mp4'))).width).to.equal(640);
    // Contours: closed chains of 8-neighbouring native pixels, each on the mask's boundary.
    const contours = JSON.parse(readFileSync(join(dir, 'big', 'contours.json'), 'utf8'));
    expect([contours.width, contours.height, contours.frames.length]).to.deep.equal([640, 480, canvas.count]);
    const plane = 640 * 480;
    contours.frames.forEach((points: [number, number][], f: number) => {
      expect(points.length, `frame ${f}`).to.be.greaterThan(100);
      points.forEach(([x, y], k) => {
        const [nx, ny] = points[(k + 1) % points.length];
        expect(Math.max(Math.abs(nx - x), Math.abs(ny - y)), `frame ${f} point ${k}`).to.equal(1);
        const inside = (xx: number, yy: number) => native[f * plane + yy * 640 + xx] === 1;
        expect(
          inside(x, y) && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1)),
        ).to.equal(true);
      });
    });
  });

  it('segment-video on a JPEG-baseline DICOM: 62 frames at 50 fps as the header says, spacing from its ultrasound region, outputs at 96x80', async function () {
    const dir = tmp('dicom');
    const model = await redChannelModel(16, 112);
    const s = await segmentVideo(
      { videoPath: join(FIXTURES, 'us_jpeg.dcm'), outDir: dir, model },
      () => undefined,
    );
    await model.release();
    expect([s.frames, s.fps]).to.deep.equal([62, 50]);
    expect(s.source).to.include({ format: 'dicom', width: 96, height: 80, fpsFrom: 'FrameTime' });
    expect(s.spacing).to.deep.equal({ x: 0.3, y: 0.25, source: 'SequenceOfUltrasoundRegions' });
    expect(s.units?.volume).to.equal('mL');
    expect(s.preprocessing?.mode).to.equal('sector');
    const masks = await decodeVideo(join(dir, 'mask.avi'));
    expect([masks.width, masks.height, masks.count, masks.fps]).to.deep.equal([96, 80, 62, 50]);
  });

  it('segment-video --input DIR: every DICOM/video of a folder, bad DICOM files reported in failures.csv and skipped, --no-crop and --pixel_spacing_mm passed on', async function () {
    const dir = tmp('folder');
    copyFileSync(join(FIXTURES, 'us_jpeg.dcm'), join(dir, 'IM0001'));
    copyFileSync(join(FIXTURES, 'us_single_frame.dcm'), join(dir, 'IM0002'));
    writeFileSync(join(dir, 'broken.dcm'), 'not a DICOM file');
    writeFileSync(join(dir, 'notes.txt'), 'exported by the scanner');
    const out = tmp('folder-out');
    const args = ['--input', dir, '--save_path', out, '--model', writeRedChannelModel(16, 112), '--no-crop'];
    await main([
      'node',
      'unilvseg',
      'segment-video',
      ...args,
      '--pixel_spacing_mm',
      '0.2,0.25',
      '--threads',
      '1',
    ]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect([summary.videos, summary.processed, summary.failed]).to.deep.equal([3, 1, 2]);
    expect(summary.ignored).to.deep.equal(['notes.txt']);
    const failures = readFileSync(join(out, 'failures.csv'), 'utf8').trim().split('\n');
    expect(failures[1]).to.match(/IM0002,.*single-frame image/);
    expect(failures[2]).to.match(/broken\.dcm,.*not a DICOM Part 10 file/);
    const one = JSON.parse(readFileSync(join(out, 'IM0001', 'summary.json'), 'utf8'));
    expect([one.frames, one.fps, one.preprocessing.mode]).to.deep.equal([62, 50, 'resize']);
    expect(one.spacing).to.deep.equal({ x: 0.2, y: 0.25, source: 'command line' });
    expect(summary.perVideo[0]).to.include({ video: 'IM0001', dir: 'IM0001' });
    process.exitCode = 0; // the CLI sets 3 (items skipped) for the run above; not this test's outcome
  });
});
