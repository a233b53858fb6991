import { expect } from 'chai';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { main } from '../../src/cli/main.js';
import { openEchoNet } from '../../src/data/echonet.js';
import { decodeVideo } from '../../src/data/video.js';
import { runEvaluation } from '../../src/eval/run.js';
import { checkClipSettings, loadSegmentationModel, type SegmentationModel } from '../../src/infer/model.js';
import { maskPngName, readMaskPng, videoStem } from '../../src/infer/png-masks.js';
import { PREDICTIONS_LOG, runPredict, shuffleClipFrames } from '../../src/infer/predict.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { cast, slice, squeeze, sub } from '../../src/onnx/ops/index.js';
import { encodeGraph } from '../../src/onnx/serialize.js';
import { Rng } from '../../src/util/rng.js';
import { makeEchoNet, type Rect } from '../eval/fixture.js';
import { synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

/** A "model" whose output is known: logits = R - 127.5, so the mask of a frame is exactly R >= 128. */
function writeRedChannelModel(dir: string, frames: number, period = 1, size = 112): string {
  const b = new GraphBuilder();
  const x = b.input('frames', 'uint8', ['N', frames, size, size, 3]);
  b.output(sub(squeeze(slice(cast(x, 'float32'), [0], [1], [4]), [4]), 127.5), 'logits');
  Object.assign(b.metadata, {
    encoder: 'red_channel',
    frames: String(frames),
    period: String(period),
    size: String(size),
  });
  const path = join(dir, 'model.onnx');
  writeFileSync(path, encodeGraph(b.toGraph('red_channel')));
  return path;
}

const tmp = tempDirs('unilvseg-predict');

describe('infer/predict (upstream seg_3d_test_get_predictions.py)', function () {
  let data: string;
  let red: SegmentationModel;
  before(async function () {
    data = await synthDataset();
    red = await loadSegmentationModel({ model: writeRedChannelModel(tmp('model'), 16), threads: 1 });
  });
  after(async () => red.release());

  it("writes a 0/255 112x112 PNG for every traced frame under upstream's name, holding that frame's prediction", async function () {
    const out = tmp('red');
    const s = await runPredict({
      dataPath: data,
      saveDir: out,
      model: red,
      split: 'all',
      batchSize: 5,
      numWorkers: 0,
      progress: false,
      cacheDir: tmp('cache'),
    });
    const videos = openEchoNet(data, 'all');
    const expected = videos.flatMap((v) => [
      maskPngName(videoStem(v.fileName), v.edFrame, 'ed'),
      maskPngName(videoStem(v.fileName), v.esFrame, 'es'),
    ]);
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.png'))
        .sort(),
    ).to.deep.equal([...expected].sort());
    expect(s.written).to.equal(2 * videos.length);
    for (const v of videos.slice(0, 3)) {
      const decoded = await decodeVideo(v.path);
      for (const [which, frame] of [
        ['ed', v.edFrame],
        ['es', v.esFrame],
      ] as const) {
        const png = PNG.sync.read(readFileSync(join(out, maskPngName(videoStem(v.fileName), frame, which))));
        expect([png.width, png.height]).to.deep.equal([112, 112]);
        const plane = 112 * 112;
        let inside = 0;
        let wrong = 0;
        for (let i = 0; i < plane; i++) {
          const want = decoded.frames[3 * (frame * plane + i)] >= 128 ? 255 : 0;
          if (png.data[4 * i] !== want) wrong++;
          inside += want ? 1 : 0;
        }
        expect(wrong, `${v.fileName} ${which}: pixels unlike the traced frame's`).to.equal(0);
        expect(inside, 'the frame has both bright and dark pixels, so the check can fail').to.be.within(
          1,
          plane - 1,
        );
      }
    }
    const log = readFileSync(join(out, PREDICTIONS_LOG), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.filter((r) => r.event === 'mask')).to.have.length(2 * videos.length);
    expect(log.at(-1).event).to.equal('done');
  });

  it('--shuffle_temporal_order permutes the clip and follows the traced frame: a per-frame model predicts the same masks', async function () {
    const plain = tmp('plain');
    const shuffled = tmp('shuffled');
    const cacheDir = tmp('cache');
    await runPredict({ dataPath: data, saveDir: plain, model: red, split: 'val', progress: false, cacheDir });
    await runPredict({
      dataPath: data,
      saveDir: shuffled,
      model: red,
      split: 'val',
      shuffleTemporalOrder: true,
      seed: 3,
      progress: false,
      cacheDir,
    });
    const pngs = readdirSync(plain).filter((f) => f.endsWith('.png'));
    expect(pngs.length).to.be.greaterThan(0);
    for (const f of pngs)
      expect(readMaskPng(join(shuffled, f)).mask, f).to.deep.equal(readMaskPng(join(plain, f)).mask);
    const positions = readFileSync(join(shuffled, PREDICTIONS_LOG), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.event === 'mask')
      .map((r) => r.clipPosition);
    expect(
      positions.some((p: number) => p !== 8),
      'some traced frame left the centre position T//2',
    ).to.equal(true);
  });

  it('reports and skips a bad video, predicting the others', async function () {
    const rect: Rect = { y0: 40, rows: 20, x0: 40, x1: 60 };
    const root = await makeEchoNet([
      { name: 'GOOD', split: 'TEST', es: { frame: 3, rect }, ed: { frame: 20, rect } },
      { name: 'BROKEN', split: 'TEST', es: { frame: 3, rect }, ed: { frame: 20, rect }, corrupt: true },
    ]);
    tmp.adopt(root);
    const out = tmp('bad-video');
    const s = await runPredict({
      dataPath: root,
      saveDir: out,
      model: red,
      batchSize: 1,
      progress: false,
      cacheDir: tmp('cache'),
    });
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.png'))
        .sort(),
    ).to.deep.equal(['GOOD_20_esv.png', 'GOOD_3_edv.png']);
    expect(s.skipped.map((k) => k.file).join(' ')).to.contain('BROKEN.avi');
    expect(s.videos).to.equal(1);
    // Frames are uniform gray 40 + 8f: frame 20 (200) is inside, frame 3 (64) outside.
    expect(readMaskPng(join(out, 'GOOD_20_esv.png')).mask.every((v) => v === 1)).to.equal(true);
    expect(readMaskPng(join(out, 'GOOD_3_edv.png')).mask.every((v) => v === 0)).to.equal(true);
  });

  it("shuffleClipFrames moves every frame with its content and returns the traced frame's new position", function () {
    const T = 6;
    const frameBytes = 4;
    const frames = Uint8Array.from({ length: 2 * T * frameBytes }, (_, i) => Math.floor(i / frameBytes));
    const batch = { frames: frames.slice(), trace_index: BigInt64Array.of(2n, 5n) };
    const pos = shuffleClipFrames(batch, T, (i) => Rng.derive(1, i));
    expect(batch.frames).to.not.deep.equal(frames);
    expect(batch.frames[pos[0] * frameBytes]).to.equal(2);
    expect(batch.frames[(T + pos[1]) * frameBytes]).to.equal(T + 5);
    const sorted = (a: Uint8Array) => [...a].sort((x, y) => x - y);
    expect(sorted(batch.frames.subarray(0, T * frameBytes))).to.deep.equal(
      sorted(frames.subarray(0, T * frameBytes)),
    );
  });

  it('predict -> evaluate end to end through the CLI with a trained-format model (tiny 3D U-Net)', async function () {
    const set = await tinyArtifactSet();
    const out = tmp('cli');
    await main([
      'node',
      'unilvseg',
      'predict',
      '--data_path',
      data,
      '--model',
      set.dir,
      '--save_dir',
      out,
      '--batch_size',
      '4',
      '--num_workers',
      '1',
      '--threads',
      '1',
    ]);
    const videos = openEchoNet(data, 'test');
    for (const v of videos)
      expect(existsSync(join(out, maskPngName(videoStem(v.fileName), v.edFrame, 'ed')))).to.equal(true);
    const { evaluation, files } = await runEvaluation({
      dataDir: data,
      predictionDir: out,
      outputDir: tmp('eval'),
      resamples: 50,
      gallery: 0,
    });
    expect(evaluation.videos.map((v) => v.fileName)).to.deep.equal(videos.map((v) => v.fileName));
    expect(evaluation.headline.overall.estimate).to.be.within(0, 1);
    expect(readFileSync(files.testDice, 'utf8').split('\n')[0]).to.equal('Filename, Overall, Large, Small');
  });

  it('loads a model from model.onnx, an artifact set, a run folder, or a checkpoint with its set: same logits', async function () {
    const set = await tinyArtifactSet();
    const run = tmp('run');
    symlinkSync(set.dir, join(run, 'artifacts'));
    copyFileSync(set.files.checkpoint, join(run, 'best.safetensors'));
    const clips = Uint8Array.from({ length: 16 * 112 * 112 * 3 }, (_, i) => (i * 37) % 256);
    const sources = [
      { model: set.files.model },
      { model: set.dir },
      { model: run },
      { checkpoint: join(run, 'best.safetensors') },
      { checkpoint: set.files.checkpoint, artifacts: set.dir },
    ];
    let reference: Float32Array | undefined;
    for (const src of sources) {
      const m = await loadSegmentationModel({ ...src, threads: 1 });
      expect([m.frames, m.period, m.size, m.encoder]).to.deep.equal([16, 1, 112, '3d_unet_small']);
      const logits = await m.run(clips, 1);
      await m.release();
      if (reference) expect(logits, JSON.stringify(src)).to.deep.equal(reference);
      reference = logits;
    }
  });

  it('refuses the wrong kind of file, a missing one, and --frames/--period that differ from the model', async function () {
    const set = await tinyArtifactSet();
    const dir = tmp('bad');
    writeFileSync(join(dir, 'junk.onnx'), 'not a model');
    mkdirSync(join(dir, 'empty'));
    const fails = async (src: Parameters<typeof loadSegmentationModel>[0], pattern: RegExp) => {
      let err: Error | undefined;
      await loadSegmentationModel(src).catch((e: Error) => (err = e));
      expect(err?.message, JSON.stringify(src)).to.match(pattern);
    };
    await fails({ model: join(dir, 'nope.onnx') }, /does not exist/);
    await fails({ model: join(dir, 'junk.onnx') }, /not a readable ONNX model/);
    await fails({ model: join(dir, 'empty') }, /folder without model.onnx/);
    await fails({ model: set.files.checkpoint }, /is a checkpoint; pass it as --checkpoint/);
    await fails({ checkpoint: set.files.model }, /not a checkpoint file/);
    await fails({ checkpoint: set.files.checkpoint, artifacts: dir }, /needs the artifact set/);
    await fails({ model: set.dir, checkpoint: set.files.checkpoint }, /either --model or --checkpoint/);
    await fails({}, /no model/);
    expect(() => checkClipSettings({ frames: 16, period: 1 }, 16, 1)).to.not.throw();
    expect(() => checkClipSettings({ frames: 16, period: 1 }, 32)).to.throw(
      /--frames 32 differs from the model's T=16/,
    );
    expect(() => checkClipSettings({ frames: 16, period: 1 }, undefined, 2)).to.throw(/--period 2 differs/);
  });
});
