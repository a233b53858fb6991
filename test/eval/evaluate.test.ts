import { expect } from 'chai';
import { mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PNG } from 'pngjs';
import { tracingToMask } from '../../src/data/polygon.js';
import { maskPngName, writeMaskPng } from '../../src/infer/png-masks.js';
import { runEvaluation } from '../../src/eval/run.js';
import { evaluatePredictions, EVALUATE_DEFAULTS } from '../../src/eval/evaluate.js';
import { main } from '../../src/cli/main.js';
import { makeEchoNet, rectMask, rectTracing, type FixtureVideo, type Rect } from './fixture.js';

const R = {
  aEd: { y0: 30, rows: 20, x0: 40, x1: 60 }, // 420 px
  aEs: { y0: 35, rows: 20, x0: 45, x1: 55 }, // 220 px
  bEd: { y0: 20, rows: 20, x0: 30, x1: 69 }, // 800 px
  bEs: { y0: 25, rows: 20, x0: 35, x1: 64 }, // 600 px
  cEd: { y0: 40, rows: 20, x0: 20, x1: 39 }, // 400 px
  cEs: { y0: 45, rows: 20, x0: 25, x1: 34 }, // 200 px
};

const VIDEOS: FixtureVideo[] = [
  { name: '0X1A', split: 'TEST', es: { frame: 5, rect: R.aEs }, ed: { frame: 12, rect: R.aEd } },
  { name: '0X1B', split: 'TEST', es: { frame: 3, rect: R.bEs }, ed: { frame: 20, rect: R.bEd } },
  {
    name: '0X1C',
    split: 'TEST',
    es: { frame: 7, rect: R.cEs },
    ed: { frame: 9, rect: R.cEd },
    corrupt: true,
  },
  { name: '0X2D', split: 'TRAIN', es: { frame: 1, rect: R.cEs }, ed: { frame: 2, rect: R.cEd } },
];

const empty = new Uint8Array(112 * 112);

function writePred(dir: string, stem: string, frame: number, which: 'ed' | 'es', mask: Uint8Array): void {
  writeMaskPng(join(dir, maskPngName(stem, frame, which)), mask, 112, 112);
}

/** Hand-made predictions with known overlaps (see the expected values in the tests). */
function writeImperfect(dir: string): void {
  writePred(dir, '0X1A', 12, 'ed', rectMask({ y0: 30, rows: 20, x0: 50, x1: 70 })); // I 220, U 620
  writePred(dir, '0X1A', 5, 'es', rectMask(R.aEs)); // I 220, U 220
  writePred(dir, '0X1B', 20, 'ed', rectMask(R.bEd)); // I 800, U 800
  writePred(dir, '0X1B', 3, 'es', empty); // I 0, U 600
  writePred(dir, '0X1C', 9, 'ed', rectMask({ y0: 40, rows: 20, x0: 20, x1: 29 })); // I 200, U 400
  writePred(dir, '0X1C', 7, 'es', rectMask(R.cEs)); // I 200, U 200
}

describe('evaluate (upstream evaluate_bootstrap.py)', function () {
  let root: string;
  before(async function () {
    root = await makeEchoNet(VIDEOS);
    mkdirSync(join(root, 'perfect'));
    for (const v of VIDEOS.slice(0, 3)) {
      writePred(join(root, 'perfect'), v.name, v.ed.frame, 'ed', tracingToMask(rectTracing(v.ed.rect)));
      writePred(join(root, 'perfect'), v.name, v.es.frame, 'es', tracingToMask(rectTracing(v.es.rect)));
    }
    mkdirSync(join(root, 'imperfect'));
    writeImperfect(join(root, 'imperfect'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('fixture masks are the hand-counted rectangles', function () {
    for (const r of Object.values(R) as Rect[])
      expect(tracingToMask(rectTracing(r))).to.deep.equal(rectMask(r));
  });

  it('perfect predictions give exactly 1 and the interval [1, 1]', async function () {
    const out = join(root, 'out-perfect');
    const { evaluation } = await runEvaluation({
      dataDir: root,
      predictionDir: join(root, 'perfect'),
      outputDir: out,
      resamples: 1000,
    });
    for (const r of Object.values(evaluation.headline)) {
      expect(r.estimate).to.equal(1);
      expect(r.ci90).to.deep.equal([1, 1]);
      expect(r.ci95).to.deep.equal([1, 1]);
    }
    expect(readFileSync(join(out, 'test_dice.csv'), 'utf8')).to.equal(
      'Filename, Overall, Large, Small\n0X1A.avi,1.0,1.0,1.0\n0X1B.avi,1.0,1.0,1.0\n0X1C.avi,1.0,1.0,1.0\n',
    );
    expect(readFileSync(join(out, 'log.csv'), 'utf8')).to.equal(
      'test dice (overall): 1.0000 (1.0000 - 1.0000)\ntest dice (large):   1.0000 (1.0000 - 1.0000)\ntest dice (small):   1.0000 (1.0000 - 1.0000)\n',
    );
  });

  describe('hand-made predictions', function () {
    let run: Awaited<ReturnType<typeof runEvaluation>>;
    before(async function () {
      run = await runEvaluation({
        dataDir: root,
        predictionDir: join(root, 'imperfect'),
        outputDir: join(root, 'out-imperfect'),
        gallery: 3,
      });
    });

    it('pooled and per-video DSC match hand-computed values, in upstream byte format', function () {
      const { evaluation, files } = run;
      // large: 2*1220/(1820+1220); small: 2*420/(1020+420); overall: 2*1640/(2840+1640)
      expect(evaluation.headline.large.estimate).to.equal(2440 / 3040);
      expect(evaluation.headline.small.estimate).to.equal(840 / 1440);
      expect(evaluation.headline.overall.estimate).to.equal(3280 / 4480);
      expect(evaluation.headline.overall.items).to.equal(6);
      expect(readFileSync(files.testDice, 'utf8')).to.equal(
        'Filename, Overall, Large, Small\n' +
          '0X1A.avi,0.6875,0.5238095238095238,1.0\n' +
          '0X1B.avi,0.7272727272727273,1.0,0.0\n' +
          '0X1C.avi,0.8,0.6666666666666666,1.0\n',
      );
      const log = readFileSync(files.log, 'utf8');
      const m =
        /^test dice \(overall\): 0\.7321 \((\d\.\d{4}) - (\d\.\d{4})\)\ntest dice \(large\): {3}0\.8026 \((\d\.\d{4}) - (\d\.\d{4})\)\ntest dice \(small\): {3}0\.5833 \((\d\.\d{4}) - (\d\.\d{4})\)\n$/.exec(
          log,
        );
      expect(m, log).to.not.equal(null);
      const h = evaluation.headline;
      expect(m!.slice(1).map(Number)).to.deep.equal(
        [h.overall.ci90, h.large.ci90, h.small.ci90].flat().map((x) => Number(x.toFixed(4))),
      );
      for (const r of Object.values(h)) {
        expect(r.ci95[0]).to.be.at.most(r.ci90[0]);
        expect(r.ci95[1]).to.be.at.least(r.ci90[1]);
        expect(r.ci90[0]).to.be.below(r.ci90[1]);
      }
      const json = JSON.parse(readFileSync(files.json, 'utf8'));
      expect(json.headline.small.ci95).to.deep.equal(h.small.ci95);
      expect(json.videos[1].small).to.include({ frame: 3, inter: 0, union: 600, dice: 0 });
      expect(json.settings).to.include({ seed: 42, resamples: 10000, split: 'test' });
    });

    it('report.html holds the headline, the plot and the worst frames, worst first', function () {
      const html = readFileSync(run.files.html, 'utf8');
      expect(html).to.contain('<svg').and.contain('90% interval').and.contain('95% interval');
      const captions = [...html.matchAll(/<figcaption>([^<]*)/g)].map((x) => x[1]);
      expect(captions).to.deep.equal([
        '0X1B.avi · ES frame 3 · DSC 0.00',
        '0X1A.avi · ED frame 12 · DSC 52.38',
        '0X1C.avi · ED frame 9 · DSC 66.67',
      ]);
      expect([...html.matchAll(/<img src="data:image\/png;base64,/g)]).to.have.length(3);
      // The corrupt video cannot be decoded: its case shows the masks alone, and says so.
      expect(html).to.match(/0X1C\.avi · ED frame 9 · DSC 66\.67<br><i>video not decodable/);
      // The first case is frame 3 of 0X1B (gray 40 + 8*3 in the fixture, MJPEG-approximate),
      // enlarged 3x, with the GT rectangle's corner (row 25, col 35) traced in magenta.
      const png = PNG.sync.read(Buffer.from(/data:image\/png;base64,([^"]+)/.exec(html)![1], 'base64'));
      expect([png.width, png.height]).to.deep.equal([336, 336]);
      const px = (r: number, c: number): number[] => [
        ...png.data.subarray(4 * (r * 336 + c), 4 * (r * 336 + c) + 3),
      ];
      for (const v of px(5, 5)) expect(v).to.be.closeTo(64, 4);
      expect(px(75, 105)).to.deep.equal([255, 0, 255]);
    });
  });

  it('the same seed gives the same intervals, another seed different ones', function () {
    const base = {
      ...EVALUATE_DEFAULTS,
      dataDir: root,
      predictionDir: join(root, 'imperfect'),
      outputDir: join(root, 'unused'),
    };
    const a = evaluatePredictions(base).headline;
    const b = evaluatePredictions(base).headline;
    const c = evaluatePredictions({ ...base, seed: 7 }).headline;
    expect(b).to.deep.equal(a);
    expect(c.overall.estimate).to.equal(a.overall.estimate);
    expect([c.overall.ci95, c.large.ci95, c.small.ci95, c.overall.ci90]).to.not.deep.equal([
      a.overall.ci95,
      a.large.ci95,
      a.small.ci95,
      a.overall.ci90,
    ]);
  });

  it('a missing prediction is an error naming the file, or skipped and listed with skipMissing', async function () {
    const dir = join(root, 'partial');
    mkdirSync(dir);
    writeImperfect(dir);
    rmSync(join(dir, '0X1B_3_edv.png'));
    const base = { ...EVALUATE_DEFAULTS, dataDir: root, predictionDir: dir, outputDir: join(root, 'unused') };
    expect(() => evaluatePredictions(base)).to.throw(
      /missing prediction for 0X1B\.avi ES frame 3: .*partial\/0X1B_3_edv\.png/,
    );
    const ev = evaluatePredictions({ ...base, skipMissing: true });
    expect(ev.videos.map((v) => v.fileName)).to.deep.equal(['0X1A.avi', '0X1C.avi']);
    expect(ev.skipped).to.have.length(1);
    expect(ev.skipped[0].fileName).to.equal('0X1B.avi');
    // Pooled over 0X1A and 0X1C only: large 2*420/(1020+420).
    expect(ev.headline.large.estimate).to.equal(840 / 1440);
  });

  it('a prediction of the wrong size is an error naming the file', function () {
    const dir = join(root, 'wrong-size');
    mkdirSync(dir);
    writeImperfect(dir);
    writeMaskPng(join(dir, '0X1C_9_esv.png'), new Uint8Array(64 * 64), 64, 64);
    const base = { ...EVALUATE_DEFAULTS, dataDir: root, predictionDir: dir, outputDir: join(root, 'unused') };
    expect(() => evaluatePredictions(base)).to.throw(
      /0X1C\.avi ED frame 9 is 64x64, expected 112x112: .*0X1C_9_esv\.png/,
    );
  });

  it('a relative prediction_dir that does not exist here is looked up under data_dir, as upstream', function () {
    const ev = evaluatePredictions({
      ...EVALUATE_DEFAULTS,
      dataDir: root,
      predictionDir: 'imperfect',
      outputDir: join(root, 'unused'),
    });
    expect(ev.predictionDirUnderDataDir).to.equal(true);
    expect(ev.predictionDirUsed).to.equal(join(root, 'imperfect'));
    const direct = evaluatePredictions({
      ...EVALUATE_DEFAULTS,
      dataDir: root,
      predictionDir: relative(process.cwd(), join(root, 'imperfect')),
      outputDir: join(root, 'unused'),
    });
    expect(direct.predictionDirUnderDataDir).to.equal(false);
    expect(() =>
      evaluatePredictions({
        ...EVALUATE_DEFAULTS,
        dataDir: root,
        predictionDir: 'no-such-dir',
        outputDir: '',
      }),
    ).to.throw(/prediction folder not found/);
  });

  it('the CLI accepts the upstream snake_case flags and writes every output', async function () {
    const out = join(root, 'out-cli');
    const log = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(' '));
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
    try {
      await main([
        'node',
        'unilvseg',
        'evaluate',
        '--data_dir',
        root,
        '--prediction_dir',
        'imperfect',
        '--output_dir',
        out,
        '--resamples',
        '500',
        '--seed',
        '3',
      ]);
    } finally {
      console.log = log;
      process.stdout.write = write;
    }
    for (const f of ['test_dice.csv', 'log.csv', 'report.json', 'report.html'])
      expect(existsSync(join(out, f)), f).to.equal(true);
    expect(lines.join('\n')).to.contain('test dice (overall): 0.7321');
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).settings).to.include({
      seed: 3,
      resamples: 500,
    });
  });
});
