import { expect } from 'chai';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCamusInfo } from '../../src/data/camus/cfg.js';
import { listPatients, readCamusCase, resolveCamusRoot } from '../../src/data/camus/dataset.js';
import { readMetaImage } from '../../src/data/camus/metaimage.js';
import { readNifti, writeNifti } from '../../src/data/camus/nifti.js';
import { keptFrameIndices, prepareCase } from '../../src/data/camus/preprocess.js';
import { resizeAreaOpenCV, resizeNearestOpenCV } from '../../src/data/resize-opencv.js';
import { readNpyU8 } from '../../src/util/npy.js';
import { tempDirs } from '../helpers/tmp.js';

// Written by tools/camus-fixtures.py: NIfTI files by nibabel, MetaImage files from the documented
// header, expected preprocessing by OpenCV 4.6's cv2.resize (see that script).
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/camus/', import.meta.url));
const fx = (...p: string[]) => join(FIXTURES, ...p);
const expected = (name: string) => readNpyU8(fx('expected', `${name}.npy.gz`));
const NIFTI = fx('nifti', 'database_nifti');
const tmp = tempDirs('unilvseg-camus-data');

/** The resize tests' source image; tools/camus-fixtures.py's pattern() is the same formula. */
function pattern(h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out[y * w + x] = Math.floor((x * x * 7 + y * y * 5 + y * 13 + x * y * 3 + 11) / 3) % 256;
  return out;
}

describe('CAMUS reading', () => {
  describe('orientation and spacing', () => {
    // The fixture's value at frame f, row y, column x is 100 f + 10 y + x (5 wide, 3 high), which
    // SimpleITK's GetArrayFromImage returns as [f][y][x]; nibabel's array is the transpose.
    const check = (file: string) => {
      const v = /\.mhd$/.test(file) ? readMetaImage(file) : readNifti(file);
      expect([v.frames, v.height, v.width]).to.deep.equal([2, 3, 5]);
      for (let f = 0; f < 2; f++)
        for (let y = 0; y < 3; y++)
          for (let x = 0; x < 5; x++)
            expect(v.data[f * 15 + y * 5 + x], `${f},${y},${x}`).to.equal(100 * f + 10 * y + x);
      expect(v.spacing.x).to.be.closeTo(0.3, 1e-6);
      expect(v.spacing.y).to.be.closeTo(0.7, 1e-6);
    };
    it('reads a nibabel .nii.gz as [frames, rows, columns] with x and y spacing', () =>
      check(fx('orientation.nii.gz')));
    it('reads an uncompressed int16 .nii the same way', () => check(fx('orientation-int16.nii')));
    it('reads a MetaImage .mhd + .raw the same way', () => check(fx('orientation.mhd')));

    it('writes NIfTI that reads back with the same frames and spacing', () => {
      const dir = tmp('t');
      const data = Uint8Array.from({ length: 2 * 3 * 5 }, (_, i) => (i * 37) % 256);
      writeNifti(join(dir, 'a.nii.gz'), {
        frames: 2,
        height: 3,
        width: 5,
        data,
        spacing: { x: 0.4, y: 0.32 },
      });
      const v = readNifti(join(dir, 'a.nii.gz'));
      expect(Array.from(v.data)).to.deep.equal(Array.from(data));
      expect([v.frames, v.height, v.width]).to.deep.equal([2, 3, 5]);
      expect(v.spacing.x).to.be.closeTo(0.4, 1e-6);
      expect(v.spacing.y).to.be.closeTo(0.32, 1e-6);
    });
  });

  describe("OpenCV's resize", () => {
    for (const [h, w, oh, ow] of [
      [150, 130, 112, 112],
      [224, 224, 112, 112],
      [336, 448, 112, 112],
      [560, 448, 112, 112],
      [779, 583, 112, 112],
      [97, 61, 40, 23],
      [2, 2203, 1, 1101],
    ]) {
      it(`INTER_AREA ${w}x${h} -> ${ow}x${oh} equals cv2.resize pixel for pixel`, () => {
        const ref = readNpyU8(fx('resize', `area_${h}x${w}_to_${oh}x${ow}.npy.gz`));
        expect(ref.shape).to.deep.equal([oh, ow]);
        const got = resizeAreaOpenCV(pattern(h, w), h, w, oh, ow);
        const diff = got.findIndex((v, i) => v !== ref.data[i]);
        expect(
          diff,
          diff < 0 ? '' : `first difference at ${diff}: ${got[diff]} vs ${ref.data[diff]}`,
        ).to.equal(-1);
      });
      it(`INTER_NEAREST ${w}x${h} -> ${ow}x${oh} equals cv2.resize`, () => {
        const ref = readNpyU8(fx('resize', `nearest_${h}x${w}_to_${oh}x${ow}.npy.gz`));
        expect(Array.from(resizeNearestOpenCV(pattern(h, w), h, w, oh, ow))).to.deep.equal(
          Array.from(ref.data),
        );
      });
    }
    it('INTER_AREA drops taps of 1e-3 px or less, as cv2.resize does', () => {
      const src = new Uint8Array(2 * 2203);
      for (const row of [0, 2203]) {
        src[row] = 1;
        src[row + 2] = 255;
      }
      const ref = readNpyU8(fx('resize', 'area_sliver.npy.gz'));
      expect(ref.data[0]).to.equal(0);
      expect(Array.from(resizeAreaOpenCV(src, 2, 2203, 1, 1101))).to.deep.equal(Array.from(ref.data));
    });
    it('refuses to enlarge with INTER_AREA', () => {
      expect(() => resizeAreaOpenCV(new Uint8Array(100), 10, 10, 112, 112)).to.throw(/only shrinks/);
    });
  });

  describe('frame choice', () => {
    it('keeps every frame up to 32 and round(k (F-1)/31) beyond', () => {
      expect(keptFrameIndices(12)).to.deep.equal([...Array(12).keys()]);
      // F = 40: k * 39 / 31 rounded, worked out by hand for a few k: 1 -> 1.258 -> 1,
      // 2 -> 2.516 -> 3, 15 -> 18.87 -> 19, 16 -> 20.13 -> 20, 31 -> 39.
      const kept = keptFrameIndices(40);
      expect(kept).to.have.length(32);
      expect([kept[0], kept[1], kept[2], kept[15], kept[16], kept[31]]).to.deep.equal([0, 1, 3, 19, 20, 39]);
      expect(kept).to.deep.equal(Array.from(expected('patient0002_4CH_keep').data));
    });
  });

  describe('the NIfTI release', () => {
    it('finds the patients under the root, under database_nifti/ or in the folder itself', () => {
      expect(resolveCamusRoot(fx('nifti')).dir).to.equal(NIFTI);
      expect(resolveCamusRoot(NIFTI).dir).to.equal(NIFTI);
      expect(listPatients(NIFTI)).to.deep.equal([1, 2, 3, 4, 5, 6].map((i) => `patient000${i}`));
      expect(() => resolveCamusRoot(fx('resize'))).to.throw(/neither database_nifti/);
    });

    it('reads a case: cfg, every frame labelled, anisotropic spacing', () => {
      const c = readCamusCase(NIFTI, 'patient0001', '4CH');
      expect(c.release).to.equal('nifti');
      expect([c.sequence.frames, c.sequence.height, c.sequence.width]).to.deep.equal([12, 150, 130]);
      expect(c.sequence.spacing.x).to.be.closeTo(0.3, 1e-6);
      expect(c.sequence.spacing.y).to.be.closeTo(0.15, 1e-6);
      expect(c.labels.size).to.equal(12);
      expect([c.info.ed, c.info.es, c.info.quality, c.info.lvEf]).to.deep.equal([1, 12, 'Good', 50.5]);
      // The marker (grey 250) sits at rows 2-5, columns 2-8: top-left, wider than tall.
      expect(c.sequence.data[3 * 130 + 8]).to.equal(250);
      expect(c.sequence.data[8 * 130 + 3]).to.not.equal(250);
    });

    it("prepares frames and LV masks exactly as upstream's preprocess.py (cv2, nibabel)", () => {
      for (const [patient, name] of [
        ['patient0001', 'patient0001_4CH'],
        ['patient0002', 'patient0002_4CH'],
      ]) {
        const p = prepareCase(readCamusCase(NIFTI, patient, '4CH'), 'upstream');
        const seq = expected(`${name}_seq`);
        const gt = expected(`${name}_gt`);
        expect([p.count, p.height, p.width]).to.deep.equal(seq.shape);
        expect(Buffer.from(p.frames).equals(Buffer.from(seq.data)), `${name} frames`).to.equal(true);
        const masks = new Uint8Array(gt.data.length);
        for (const [k, m] of p.truth) masks.set(m, k * 112 * 112);
        expect(p.truth.size).to.equal(p.count);
        expect(Buffer.from(masks).equals(Buffer.from(gt.data)), `${name} masks`).to.equal(true);
      }
    });

    it('places ED and ES in either order and scales the spacing to the 112 grid', () => {
      const edFirst = prepareCase(readCamusCase(NIFTI, 'patient0001', '4CH'), 'upstream');
      expect([edFirst.ed, edFirst.es]).to.deep.equal([0, 11]);
      expect(edFirst.spacing.x).to.be.closeTo((0.3 * 130) / 112, 1e-6);
      expect(edFirst.spacing.y).to.be.closeTo((0.15 * 150) / 112, 1e-6);
      const esFirst = prepareCase(readCamusCase(NIFTI, 'patient0002', '4CH'), 'upstream');
      expect([esFirst.ed, esFirst.es]).to.deep.equal([31, 0]);
      const twoCh = prepareCase(readCamusCase(NIFTI, 'patient0001', '2CH'), 'native');
      expect([twoCh.ed, twoCh.es, twoCh.height, twoCh.width]).to.deep.equal([8, 0, 140, 128]);
    });

    it('names the file and the problem of each bad patient', () => {
      const problem = (p: string) => {
        try {
          readCamusCase(NIFTI, p, '4CH');
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      };
      expect(problem('patient0003')).to.match(
        /patient0003_4CH_half_sequence_gt\.nii\.gz: missing ground truth/,
      );
      expect(problem('patient0004')).to.match(
        /patient0004_4CH_half_sequence_gt\.nii\.gz: labels are 2 frame\(s\) of 16x20, .* needs 3/,
      );
      expect(problem('patient0005')).to.match(
        /patient0005_4CH_half_sequence\.nii\.gz: (corrupt gzip|.*truncated)/,
      );
      expect(problem('patient0006')).to.match(
        /Info_4CH\.cfg: NbFrame 5 but .*patient0006_4CH_half_sequence\.nii\.gz holds 3 frame/,
      );
      expect(() => readCamusCase(NIFTI, 'patient0002', '2CH')).to.throw(/Info_2CH\.cfg: missing/);
    });

    it('rejects cfg files without the keys it needs', () => {
      const dir = tmp('t');
      const cfg = join(dir, 'Info_4CH.cfg');
      writeFileSync(cfg, 'ED: 1\nES: 1\nNbFrame: 3\nImageQuality: Good\n');
      expect(() => readCamusInfo(cfg)).to.throw(/same frame/);
      writeFileSync(cfg, 'ED: 1\nES: 9\nNbFrame: 3\nImageQuality: Good\n');
      expect(() => readCamusInfo(cfg)).to.throw(/ES 9 is past NbFrame 3/);
      writeFileSync(cfg, 'ED: 1\nES: 3\nNbFrame: 3\n');
      expect(() => readCamusInfo(cfg)).to.throw(/no ImageQuality/);
      writeFileSync(cfg, 'ED 1\n');
      expect(() => readCamusInfo(cfg)).to.throw(/Info_4CH\.cfg:1: "ED 1" is not "Key: Value"/);
    });
  });

  describe('the MetaImage release', () => {
    const ROOT = fx('metaimage');
    it('reads ED/ES-only tracings from training/, raw and zlib-compressed', () => {
      const dir = resolveCamusRoot(ROOT).dir;
      expect(dir).to.equal(join(ROOT, 'training'));
      const c = readCamusCase(dir, 'patient0001', '4CH');
      expect(c.release).to.equal('metaimage');
      expect([...c.labels.keys()]).to.deep.equal([0, 5]);
      expect(c.sequence.spacing).to.deep.equal({ x: 0.25, y: 0.5 });
      const p = prepareCase(c, 'upstream');
      expect(Buffer.from(p.frames).equals(Buffer.from(expected('mhd_patient0001_4CH_seq').data))).to.equal(
        true,
      );
      const gt = expected('mhd_patient0001_4CH_gt');
      expect(Buffer.from(p.truth.get(0)!).equals(Buffer.from(gt.data.subarray(0, 112 * 112)))).to.equal(true);
      expect(Buffer.from(p.truth.get(5)!).equals(Buffer.from(gt.data.subarray(112 * 112)))).to.equal(true);
      const two = readCamusCase(dir, 'patient0001', '2CH');
      expect([two.info.ed, two.info.es, [...two.labels.keys()]]).to.deep.equal([5, 1, [4, 0]]);
      const p2 = prepareCase(two, 'upstream');
      expect(Buffer.from(p2.frames).equals(Buffer.from(expected('mhd_patient0001_2CH_seq').data))).to.equal(
        true,
      );
    });

    it('names a missing .raw, a broken header and a missing tracing', () => {
      const dir = tmp('t');
      const p = join(dir, 'patient0001');
      cpSync(join(ROOT, 'training', 'patient0001'), p, { recursive: true });
      rmSync(join(p, 'patient0001_4CH_sequence.raw'));
      expect(() => readCamusCase(dir, 'patient0001', '4CH')).to.throw(
        /patient0001_4CH_sequence\.mhd: its data file .*patient0001_4CH_sequence\.raw is missing/,
      );
      writeFileSync(join(p, 'patient0001_2CH_ES_gt.mhd'), 'NDims = 3\n');
      expect(() => readCamusCase(dir, 'patient0001', '2CH')).to.throw(
        /patient0001_2CH_ES_gt\.mhd: not a MetaImage header/,
      );
      rmSync(join(p, 'patient0001_2CH_ES_gt.mhd'));
      expect(() => readCamusCase(dir, 'patient0001', '2CH')).to.throw(
        /patient0001_2CH_ES_gt\.mhd: missing ES ground truth/,
      );
    });
  });
});
