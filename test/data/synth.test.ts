import { expect } from 'chai';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { normalizeFlagNames } from '../../src/cli/flags.js';
import { register } from '../../src/cli/synth.js';
import { DataError } from '../../src/data/errors.js';
import { readFileList, readVolumeTracings } from '../../src/data/csv-files.js';
import { tracingToMask } from '../../src/data/polygon.js';
import { edFrame, esFrame } from '../../src/data/tracings.js';
import { decodeVideo, probeVideo } from '../../src/data/video.js';
import { assignSplits, generateDataset } from '../../src/data/synth/dataset.js';
import { sampleParams } from '../../src/data/synth/params.js';
import { VideoRenderer } from '../../src/data/synth/render.js';
import { readGroundTruthMasks } from '../../src/data/synth/truth.js';
import { Rng } from '../../src/util/rng.js';
import { ejectionFraction, volumeFromTracing } from '../../src/data/synth/volume.js';

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    sum += a[i] + b[i];
  }
  return (2 * inter) / sum;
}

const area = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);

describe('data/synth/volume', () => {
  it('gives pi/4 d^2 L for a cylinder (px^3 with 10 mm per pixel)', () => {
    const rows = [[30, 10, 30, 50]];
    for (let i = 0; i < 20; i++) rows.push([25, 11 + 2 * i, 35, 11 + 2 * i]);
    expect(volumeFromTracing(rows, 10)).to.be.closeTo((Math.PI / 4) * 100 * 40, 1e-9);
    // 1.6 mm per pixel (the default) scales px^3 by 1.6^3 / 1000 into mL.
    expect(volumeFromTracing(rows)).to.be.closeTo(((Math.PI / 4) * 100 * 40 * 1.6 ** 3) / 1000, 1e-9);
  });

  it('approaches 4/3 pi r^3 for a sphere traced with tilted chords', () => {
    const r = 20;
    const [c, s] = [Math.cos(0.3), Math.sin(0.3)]; // any orientation: only lengths count
    const at = (u: number, v: number) => [50 + u * c - v * s, 50 + u * s + v * c];
    const rows = [[...at(0, -r), ...at(0, r)]];
    for (let i = 1; i <= 20; i++) {
      const v = -r + ((i - 0.5) / 20) * 2 * r;
      const half = Math.sqrt(r * r - v * v);
      rows.push([...at(-half, v), ...at(half, v)]);
    }
    expect(volumeFromTracing(rows, 10) / ((4 / 3) * Math.PI * r ** 3)).to.be.closeTo(1, 0.003);
  });

  it('computes EF in percent and rejects a non-positive EDV', () => {
    expect(ejectionFraction(120, 45)).to.be.closeTo(62.5, 1e-12);
    expect(() => ejectionFraction(0, 1)).to.throw(/EDV/);
  });
});

describe('data/synth', function () {
  let dir: string;
  let again: string;
  const seed = 7;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'synth-a-'));
    again = mkdtempSync(join(tmpdir(), 'synth-b-'));
    // Through the command line, with an upstream-style snake_case flag.
    const program = new Command().exitOverride();
    register(program);
    const argv = [
      'node',
      'unilvseg',
      'synth',
      '--out',
      dir,
      '--videos',
      '3',
      '--seed',
      String(seed),
      '--frames_min',
      '40',
      '--frames-max',
      '64',
    ];
    await program.parseAsync(normalizeFlagNames([...argv, '--contact-sheet', join(dir, 'sheet.png')]), {
      from: 'node',
    });
    await generateDataset({ out: again, videos: 3, seed, framesMin: 40, framesMax: 64, progress: false });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(again, { recursive: true, force: true });
  });

  it('writes EchoNet-Dynamic FileList.csv with all nine columns and every split', async () => {
    const text = readFileSync(join(dir, 'FileList.csv'), 'utf8');
    expect(text.split('\n')[0]).to.equal(
      'FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split',
    );
    const rows = readFileList(join(dir, 'FileList.csv'));
    expect(rows).to.have.length(3);
    expect(rows.map((r) => r.split).sort()).to.deep.equal(['TEST', 'TRAIN', 'VAL']);
    for (const r of rows) {
      expect(r.fileName).to.match(/^0X[0-9A-F]{16}$/);
      expect([r.frameHeight, r.frameWidth]).to.deep.equal([112, 112]);
      expect(r.fps).to.be.within(45, 55);
      expect(r.numberOfFrames).to.be.within(40, 64);
      const probe = await probeVideo(join(dir, 'Videos', `${r.fileName}.avi`));
      expect(probe).to.deep.equal({ width: 112, height: 112, fps: r.fps, frames: r.numberOfFrames });
    }
    expect(readdirSync(join(dir, 'Videos')).sort()).to.deep.equal(
      rows.map((r) => `${r.fileName}.avi`).sort(),
    );
  });

  it('is deterministic: the same seed writes the same CSVs and masks', () => {
    for (const f of ['FileList.csv', 'VolumeTracings.csv']) {
      expect(readFileSync(join(again, f), 'utf8')).to.equal(readFileSync(join(dir, f), 'utf8'));
    }
    for (const r of readFileList(join(dir, 'FileList.csv'))) {
      const a = readGroundTruthMasks(dir, r.fileName);
      const b = readGroundTruthMasks(again, r.fileName);
      expect(Buffer.from(a.masks).equals(Buffer.from(b.masks))).to.equal(true);
    }
  });

  it('traces two frames per video, 21 rows each, the ES (smaller) frame first', () => {
    const text = readFileSync(join(dir, 'VolumeTracings.csv'), 'utf8');
    expect(text.split('\n')[0]).to.equal('FileName,X1,Y1,X2,Y2,Frame');
    const traces = readVolumeTracings(join(dir, 'VolumeTracings.csv'));
    for (const r of readFileList(join(dir, 'FileList.csv'))) {
      const v = traces.get(`${r.fileName}.avi`)!;
      expect(v.frames).to.have.length(2);
      expect(v.rows.get(v.frames[0])).to.have.length(21);
      expect(v.rows.get(v.frames[1])).to.have.length(21);
      const truth = readGroundTruthMasks(dir, r.fileName);
      expect([esFrame(v), edFrame(v)]).to.deep.equal([truth.tracedEs, truth.tracedEd]);
      expect(volumeFromTracing(v.rows.get(esFrame(v))!)).to.be.lessThan(
        volumeFromTracing(v.rows.get(edFrame(v))!),
      );
    }
  });

  it('lists EF, ESV and EDV that follow from the tracings by the method of discs', () => {
    const traces = readVolumeTracings(join(dir, 'VolumeTracings.csv'));
    for (const r of readFileList(join(dir, 'FileList.csv'))) {
      const v = traces.get(`${r.fileName}.avi`)!;
      const esv = volumeFromTracing(v.rows.get(esFrame(v))!);
      const edv = volumeFromTracing(v.rows.get(edFrame(v))!);
      expect(r.esv).to.be.closeTo(esv, 0.006);
      expect(r.edv).to.be.closeTo(edv, 0.006);
      expect(r.ef).to.be.closeTo(ejectionFraction(edv, esv), 0.006);
      expect(r.ef).to.be.within(15, 85);
      expect(r.edv).to.be.within(30, 300);
    }
  });

  it('draws tracings whose upstream polygon matches the rendered cavity (Dice >= 0.9)', () => {
    const traces = readVolumeTracings(join(dir, 'VolumeTracings.csv'));
    for (const r of readFileList(join(dir, 'FileList.csv'))) {
      const v = traces.get(`${r.fileName}.avi`)!;
      const truth = readGroundTruthMasks(dir, r.fileName);
      for (const frame of v.frames) {
        const gt = truth.masks.subarray(frame * 112 * 112, (frame + 1) * 112 * 112);
        expect(dice(tracingToMask(v.rows.get(frame)!), gt)).to.be.at.least(0.9);
      }
    }
  });

  it('stores a mask for every frame, with the true ED/ES frames of each beat', () => {
    for (const r of readFileList(join(dir, 'FileList.csv'))) {
      const t = readGroundTruthMasks(dir, r.fileName);
      expect([t.frames, t.height, t.width]).to.deep.equal([r.numberOfFrames, 112, 112]);
      expect(t.masks.length).to.equal(r.numberOfFrames * 112 * 112);
      expect(t.efTrue).to.be.closeTo(r.ef, 0.006);
      expect(t.edFrames).to.include(t.tracedEd);
      expect(t.esFrames).to.include(t.tracedEs);
      const areas = Array.from({ length: t.frames }, (_, f) =>
        area(t.masks.subarray(f * 12544, (f + 1) * 12544)),
      );
      // End-diastole is the largest cavity of its neighbourhood, end-systole the smallest.
      for (const ed of t.edFrames)
        for (const d of [-2, -1, 1, 2])
          if (areas[ed + d] !== undefined) expect(areas[ed]).to.be.at.least(areas[ed + d]);
      for (const es of t.esFrames)
        for (const d of [-2, -1, 1, 2])
          if (areas[es + d] !== undefined) expect(areas[es]).to.be.at.most(areas[es + d]);
      expect(areas[t.tracedEs]).to.be.lessThan(areas[t.tracedEd]);
    }
  });

  it('shows a dark cavity where the mask says, walled by bright myocardium, in a black-cornered fan', async () => {
    const r = readFileList(join(dir, 'FileList.csv'))[0];
    const video = await decodeVideo(join(dir, 'Videos', `${r.fileName}.avi`));
    expect(video.count).to.equal(r.numberOfFrames);
    const m = readGroundTruthMasks(dir, r.fileName).masks;
    const W = 112;
    const sum = [0, 0];
    const n = [0, 0];
    for (let f = 0; f < video.count; f++) {
      for (let y = 3; y < W - 3; y++) {
        for (let x = 3; x < W - 3; x++) {
          const i = f * W * W + y * W + x;
          const around = [i - 3, i + 3, i - 3 * W, i + 3 * W].filter((j) => m[j]).length;
          // 0: 3 px inside the cavity border; 1: within 3 px outside it (the walls).
          const k = m[i] && around === 4 ? 0 : !m[i] && around > 0 ? 1 : -1;
          if (k < 0) continue;
          sum[k] += video.frames[3 * i];
          n[k]++;
        }
      }
    }
    expect(sum[0] / n[0]).to.be.below(25);
    expect(sum[1] / n[1]).to.be.above(3 * (sum[0] / n[0]) + 40);
    expect(video.frames[0]).to.be.below(8); // the top-left corner is outside the sector
  });

  it('writes a contact sheet PNG (4 columns, one row per video)', () => {
    const png = PNG.sync.read(readFileSync(join(dir, 'sheet.png')));
    expect([png.width, png.height]).to.deep.equal([4 * 226, 3 * 226]);
  });

  it('splits about 75/12.5/12.5 % and uses every split from 3 videos on', () => {
    const count = (s: string[], k: string) => s.filter((x) => x === k).length;
    expect(assignSplits(1, 1)).to.deep.equal(['TRAIN']);
    for (const n of [3, 4, 5, 8, 40, 400]) {
      const s = assignSplits(3, n);
      expect(s).to.have.length(n);
      expect(count(s, 'VAL')).to.be.at.least(1).and.to.equal(count(s, 'TEST'));
      if (n >= 40) expect(Math.abs(count(s, 'TRAIN') / n - 0.75)).to.be.at.most(0.02);
    }
    expect(assignSplits(5, 40)).to.deep.equal(assignSplits(5, 40));
    expect(assignSplits(5, 40)).to.not.deep.equal(assignSplits(6, 40));
  });

  it('reports missing ground truth as a DataError naming the file', () => {
    expect(() => readGroundTruthMasks(dir, '0XNOSUCHVIDEO')).to.throw(DataError, /0XNOSUCHVIDEO\.json/);
    expect(existsSync(join(dir, 'Masks'))).to.equal(true);
  });
});

describe('data/synth --look hard', () => {
  const renderPair = (look: 'echonet' | 'hard') => {
    const params = sampleParams(Rng.derive(3, 3, 0), { framesMin: 60, framesMax: 60, look });
    const renderer = new VideoRenderer(params, Rng.derive(3, 5, 0));
    const frames = [0, 25].map((t) => {
      const rgb = new Uint8Array(112 * 112 * 3);
      const mask = new Uint8Array(112 * 112);
      renderer.render(t, 0, 0, 0, rgb, mask); // end-diastole, no breathing: only the probe may move
      return { rgb, mask };
    });
    return { params, frames };
  };
  /** Mean grey 3 px inside the cavity border over mean grey within 3 px outside it (the walls). */
  const contrast = ({ rgb, mask }: { rgb: Uint8Array; mask: Uint8Array }) => {
    const W = 112;
    const sum = [0, 0];
    const n = [0, 0];
    for (let y = 3; y < W - 3; y++)
      for (let x = 3; x < W - 3; x++) {
        const i = y * W + x;
        const around = [i - 3, i + 3, i - 3 * W, i + 3 * W].filter((j) => mask[j]).length;
        const k = mask[i] && around === 4 ? 0 : !mask[i] && around > 0 ? 1 : -1;
        if (k < 0) continue;
        sum[k] += rgb[3 * i];
        n[k]++;
      }
    return sum[0] / n[0] / (sum[1] / n[1]);
  };

  it('draws the default look unchanged and the hard extras after it', () => {
    const easy = renderPair('echonet');
    const hard = renderPair('hard');
    const { hard: extras, ...base } = hard.params;
    const { hard: none, ...easyBase } = easy.params;
    expect(base).to.deep.equal(easyBase);
    expect(extras).to.not.equal(undefined);
    expect(none).to.equal(undefined);
  });

  it('has a brighter cavity relative to its walls, and a probe that moves the heart (mask follows)', () => {
    const easy = renderPair('echonet');
    const hard = renderPair('hard');
    expect(contrast(hard.frames[0])).to.be.above(contrast(easy.frames[0]) + 0.1);
    expect(Array.from(easy.frames[1].mask)).to.deep.equal(Array.from(easy.frames[0].mask));
    expect(dice(hard.frames[0].mask, hard.frames[1].mask)).to.be.below(0.99);
    expect(area(hard.frames[1].mask)).to.be.closeTo(
      area(hard.frames[0].mask),
      0.05 * area(hard.frames[0].mask),
    );
  });
});
