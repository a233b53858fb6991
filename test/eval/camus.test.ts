import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { agreement } from '../../src/eval/camus/ef.js';
import { largeSmall, scoreCase, summariseDsc, type CaseForScoring } from '../../src/eval/camus/scores.js';
import { EXIT_SKIPPED } from '../../src/util/failures.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { readNpyU8 } from '../../src/util/npy.js';
import { tinyArtifactSet } from '../helpers/fixtures.js';
import { tempDirs } from '../helpers/tmp.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/camus/', import.meta.url));
const tmp = tempDirs('unilvseg-camus-eval');
/** `unilvseg camus` on `data` into `out` with one ONNX Runtime thread. */
const camus = (data: string, out: string, extra: string[], model: string) =>
  main([
    'node',
    'unilvseg',
    'camus',
    '--data_path',
    data,
    '--checkpoint',
    model,
    '--out',
    out,
    '--threads',
    '1',
    ...extra,
  ]);

/** A 2x4 mask with the listed pixels set. */
const mask = (...on: number[]) => {
  const m = new Uint8Array(8);
  for (const i of on) m[i] = 1;
  return m;
};

function caseOf(
  patient: string,
  quality: string,
  ed: number,
  es: number,
  frames: [Uint8Array, Uint8Array][],
): CaseForScoring {
  const masks = new Uint8Array(frames.length * 8);
  frames.forEach(([, pred], k) => masks.set(pred, k * 8));
  return {
    patient,
    view: '4CH',
    quality,
    count: frames.length,
    source: frames.map((_, k) => k),
    ed,
    es,
    height: 2,
    width: 4,
    truth: new Map(frames.map(([gt], k) => [k, gt])),
    masks,
  };
}

/*
 * Worked by hand (I = |pred AND gt|, U = |pred OR gt|, pooled DSC = 2 sum I / (sum U + sum I)):
 *  patient A (Good, ED 0, ES 2, 3 frames, Middle = 3 // 2 = 1):
 *    f0 gt {0,1,2,3} pred {1,2,3,4}: I 3, U 5   (4 px)
 *    f1 gt {0,1,2}   pred {0,1,2}:   I 3, U 3
 *    f2 gt {5,6}     pred {}:        I 0, U 2   (2 px)  -> first (4 px) > last: Large f0, Small f2
 *  patient B (Poor, ED 1, ES 0, 2 frames, Middle = 1):
 *    f0 gt {0,1,2}   pred {0,1,2}:   I 3, U 3   (3 px)
 *    f1 gt {4,5}     pred {4,5,6,7}: I 2, U 4   (2 px)  -> first (3 px) > last: Large f0, Small f1
 *  Overall: I 11, U 17 -> 22/28 = 0.785714    ED: A f0 + B f1: I 5, U 9 -> 10/14 = 0.714286
 *  ES: A f2 + B f0: I 3, U 5 -> 6/8 = 0.75    Middle: A f1 + B f1: I 5, U 7 -> 10/12 = 0.833333
 *  Large: A f0 + B f0: I 6, U 8 -> 12/14 = 0.857143    Small: A f2 + B f1: I 2, U 6 -> 4/8 = 0.5
 *  Large and Small: A f0 f2 + B f0 f1: I 8, U 14 -> 16/22 = 0.727273
 *  Good (A): I 6, U 10 -> 12/16 = 0.75    Poor (B): I 5, U 7 -> 10/12 = 0.833333
 *  Good ED = A f0 = 6/8 = 0.75; Poor ES = B f0 = 1.
 */
const A = caseOf('patient0001', 'Good', 0, 2, [
  [mask(0, 1, 2, 3), mask(1, 2, 3, 4)],
  [mask(0, 1, 2), mask(0, 1, 2)],
  [mask(5, 6), mask()],
]);
const B = caseOf('patient0002', 'Poor', 1, 0, [
  [mask(0, 1, 2), mask(0, 1, 2)],
  [mask(4, 5), mask(4, 5, 6, 7)],
]);

describe('CAMUS evaluation', () => {
  it('scores frames and pools each set as worked out by hand', () => {
    const frames = [...scoreCase(A), ...scoreCase(B)];
    expect(frames.map((f) => [f.inter, f.union])).to.deep.equal([
      [3, 5],
      [3, 3],
      [0, 2],
      [3, 3],
      [2, 4],
    ]);
    expect(
      frames.map(
        (f) =>
          `${f.ed ? 'D' : ''}${f.es ? 'S' : ''}${f.middle ? 'M' : ''}${f.large ? 'L' : ''}${f.small ? 's' : ''}`,
      ),
    ).to.deep.equal(['DL', 'M', 'Ss', 'SL', 'DMs']);
    const s = summariseDsc(frames, 42, 200);
    const est = (r: { estimate: number } | null) => r!.estimate;
    expect(est(s.overall)).to.be.closeTo(22 / 28, 1e-12);
    expect(est(s.ed)).to.be.closeTo(10 / 14, 1e-12);
    expect(est(s.es)).to.be.closeTo(6 / 8, 1e-12);
    expect(est(s.middle)).to.be.closeTo(10 / 12, 1e-12);
    expect(est(s.bySize.large)).to.be.closeTo(12 / 14, 1e-12);
    expect(est(s.bySize.small)).to.be.closeTo(4 / 8, 1e-12);
    expect(est(s.bySize.largeAndSmall)).to.be.closeTo(16 / 22, 1e-12);
    expect(Object.keys(s.byQuality)).to.deep.equal(['good', 'poor']);
    expect(est(s.byQuality.good.overall)).to.be.closeTo(12 / 16, 1e-12);
    expect(est(s.byQuality.poor.overall)).to.be.closeTo(10 / 12, 1e-12);
    expect(est(s.byQuality.good.ed)).to.be.closeTo(6 / 8, 1e-12);
    expect(est(s.byQuality.poor.es)).to.equal(1);
    expect([s.overall!.items, s.ed!.items, s.byQuality.good.patients]).to.deep.equal([5, 2, 1]);
    // The interval brackets the estimate, and the seed fixes it.
    expect(s.overall!.ci95[0]).to.be.at.most(s.overall!.estimate);
    expect(s.overall!.ci95[1]).to.be.at.least(s.overall!.estimate);
    expect(summariseDsc(frames, 42, 200).overall!.ci90).to.deep.equal(s.overall!.ci90);
  });

  it("takes the last frame as Large when both ends' LV areas tie (upstream's rule)", () => {
    const truth = new Map([
      [0, mask(0, 1)],
      [2, mask(4, 5)],
    ]);
    expect(largeSmall(truth, 3)).to.deep.equal({ large: 2, small: 0 });
    expect(largeSmall(new Map([[0, mask(0)]]), 3)).to.equal(null);
  });

  it('agreement: bias, SD and mean absolute difference over the complete pairs', () => {
    // differences 2, -1, 5: mean 2, SD sqrt((0 + 9 + 9) / 2) = 3, mean |d| 8/3
    const a = agreement([
      [52, 50],
      [40, 41],
      [65, 60],
      [null, 55],
    ]);
    expect(a.n).to.equal(3);
    expect(a.bias).to.be.closeTo(2, 1e-12);
    expect(a.sd).to.be.closeTo(3, 1e-12);
    expect(a.meanAbs).to.be.closeTo(8 / 3, 1e-12);
  });

  describe('unilvseg camus', function () {
    this.timeout(300_000);
    let model: string;
    before(async () => {
      model = (await tinyArtifactSet()).dir;
    });
    afterEach(() => {
      process.exitCode = undefined;
    });

    it('evaluates the good NIfTI patients once each, names the four bad ones in failures.csv and exits 3', async () => {
      const out = tmp('nifti');
      await camus(join(FIXTURES, 'nifti'), out, ['--resamples', '200'], model);
      expect(process.exitCode).to.equal(EXIT_SKIPPED);
      const failures = readFileSync(join(out, 'failures.csv'), 'utf8').trim().split('\n').slice(1);
      expect(failures).to.have.length(4);
      expect(failures[0]).to.match(
        /patient0003_4CH_half_sequence_gt\.nii\.gz,"?patient0003 4CH: missing ground truth/,
      );
      expect(failures[1]).to.match(
        /patient0004_4CH_half_sequence_gt\.nii\.gz,"?patient0004 4CH: labels are 2 frame/,
      );
      expect(failures[2]).to.match(/patient0005_4CH_half_sequence\.nii\.gz,"?patient0005 4CH: corrupt gzip/);
      expect(failures[3]).to.match(/patient0006.Info_4CH\.cfg,"?patient0006 4CH: NbFrame 5 but/);
      // One uint8 [frames, 112, 112] prediction per evaluated patient; 40 frames were cut to 32.
      const p1 = readNpyU8(join(out, 'predictions', 'patient0001_4CH_pred.npy'));
      const p2 = readNpyU8(join(out, 'predictions', 'patient0002_4CH_pred.npy'));
      expect([p1.shape, p2.shape]).to.deep.equal([
        [12, 112, 112],
        [32, 112, 112],
      ]);
      const rows = readFileSync(join(out, 'frames.csv'), 'utf8').trim().split('\n');
      expect(rows[0]).to.equal(
        'patient,view,quality,frame,source_frame,is_ed,is_es,is_middle,size,gt_px,pred_px,intersection,union,dsc',
      );
      const body = rows.slice(1).map((r) => r.split(','));
      expect(body).to.have.length(12 + 32);
      expect(new Set(body.map((r) => `${r[0]}/${r[3]}`)).size).to.equal(44);
      // The predicted pixel counts are those of the written masks.
      const sum = (d: Uint8Array, k: number) =>
        d.subarray(k * 12544, (k + 1) * 12544).reduce((s, v) => s + v, 0);
      expect(body.filter((r) => r[0] === 'patient0002').map((r) => Number(r[10]))).to.deep.equal(
        Array.from({ length: 32 }, (_, k) => sum(p2.data, k)),
      );
      // patient0002 runs ES -> ED over 40 frames: ED is the last kept frame (source 39).
      const ed2 = body.find((r) => r[0] === 'patient0002' && r[5] === '1')!;
      expect([ed2[3], ed2[4], ed2[2]]).to.deep.equal(['31', '39', 'poor']);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary.patients).to.deep.equal({ listed: 6, evaluated: 2, failed: 4, excludedByQuality: 0 });
      expect(summary.dsc.overall.items).to.equal(44);
      expect([summary.dsc.ed.items, summary.dsc.middle.items]).to.deep.equal([2, 2]);
      expect(Object.keys(summary.dsc.byQuality)).to.deep.equal(['good', 'poor']);
      expect(summary.ef.predictedVsCamus.n).to.be.at.most(2);
      expect(readFileSync(join(out, 'report.html'), 'utf8')).to.match(
        /CAMUS out-of-distribution evaluation[\s\S]*by image quality[\s\S]*Skipped patients \(4\)/,
      );
      const events = readJsonl(join(out, 'camus.jsonl')).map((e) => e.event);
      expect(events).to.deep.equal([
        'start',
        'patient',
        'patient',
        'failed',
        'failed',
        'failed',
        'failed',
        'done',
      ]);
    });

    it('--quality keeps the named qualities; --resize native predicts on the file grid of the MetaImage release', async () => {
      const q = tmp('quality');
      await camus(join(FIXTURES, 'nifti'), q, ['--quality', 'Good,medium', '--resamples', '100'], model);
      const s = JSON.parse(readFileSync(join(q, 'summary.json'), 'utf8'));
      expect([
        s.patients.evaluated,
        s.patients.excludedByQuality,
        Object.keys(s.dsc.byQuality),
      ]).to.deep.equal([1, 1, ['good']]);
      process.exitCode = undefined; // the bad patients fail whatever their quality
      const out = tmp('mhd-native');
      await camus(
        join(FIXTURES, 'metaimage'),
        out,
        ['--view', '2CH', '--resize', 'native', '--resamples', '100'],
        model,
      );
      expect(process.exitCode).to.equal(undefined);
      expect(readNpyU8(join(out, 'predictions', 'patient0001_2CH_pred.npy')).shape).to.deep.equal([
        5, 116, 120,
      ]);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      // ED/ES traced only: two frames, no middle frame, ES -> ED (ES first).
      expect([summary.frames, summary.dsc.middle, summary.settings.resize]).to.deep.equal([
        2,
        null,
        'native',
      ]);
      const rows = readFileSync(join(out, 'frames.csv'), 'utf8').trim().split('\n').slice(1);
      expect(rows.map((r) => r.split(',').slice(3, 7).join(','))).to.deep.equal(['0,0,0,1', '4,4,1,0']);
    });
  });
});
