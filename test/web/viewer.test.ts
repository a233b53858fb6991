import { expect } from 'chai';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDicomVideo } from '../../src/data/dicom/read.js';
import { decodeVideo } from '../../src/data/video.js';
import { areaCurve } from '../../src/infer/cardiac/index.js';
import { loadSegmentationModel, type SegmentationModel } from '../../src/infer/model.js';
import { segmentVideoFrames, type SegmentSummary } from '../../src/infer/segment-core.js';
import { segmentVideo } from '../../src/infer/segment.js';
import { inferenceModelBytes } from '../../src/artifacts/build.js';
import { loadCheckpoint } from '../../src/artifacts/checkpoint-file.js';
import { weightsLayout } from '../../src/artifacts/import.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { launchChromium, type Chromium, type PageHelpers } from '../../tools/chromium.js';
import { fixtureVideoNames, synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { testOutputDir } from '../helpers/output.js';
import { codecFixture } from '../helpers/dicom-codecs.js';
import { agreement, finishedPageState, type PageSegmenter } from '../helpers/viewer-page.js';
import { tempDirs } from '../helpers/tmp.js';

const tmp = tempDirs('unilvseg-viewer');
const DICOM_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dicom/', import.meta.url));

/** The lv-result event's detail (SegmentationResult in web/src/lv-segmenter.ts). */
interface SegmentationResultDetail {
  areas: number[];
  edFrames: number[];
  esFrames: number[];
  ef: number | null;
  fps: number;
  frames: number;
  summary: SegmentSummary;
}

/** segment-video's masks from its output folder (mask.avi is lossless FFV1, 0/255) as 0/1. */
async function segmentVideoMasks(outDir: string): Promise<Uint8Array> {
  const video = await decodeVideo(join(outDir, 'mask.avi'));
  return Uint8Array.from({ length: video.frames.length / 3 }, (_, i) => (video.frames[3 * i] > 127 ? 1 : 0));
}

describe('browser viewer (Chromium, onnxruntime-web wasm)', function () {
  this.timeout(300_000);
  let chromium: Chromium;
  let server: RunningServer;
  let model: SegmentationModel;
  let dataDir: string;
  let video: string;
  /** segment-video's own run on the AVI: summary and output folder. */
  let cli: SegmentSummary;
  let cliOut: string;
  let modelFile: string;

  before(async () => {
    // Two videos of about two seconds: several beats, so a mean EF differs from any one beat's.
    dataDir = await synthDataset(2, 11, 100, 110);
    video = fixtureVideoNames(dataDir)[0].replace(/\.avi$/, '');
    const set = await tinyArtifactSet('3d_unet_small', 0.25, 16);
    modelFile = set.files.model;
    model = await loadSegmentationModel({ model: modelFile });
    server = await startServer({
      dataPath: dataDir,
      modelFile: set.files.model,
      port: 0,
      transcodeDir: tmp('transcoded'),
    });
    cliOut = tmp('segment');
    cli = await segmentVideo(
      { videoPath: join(dataDir, 'Videos', `${video}.avi`), outDir: cliOut, model },
      () => {},
    );
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
    await model?.release();
  });

  it("segments a served AVI on wasm: exact frames, masks >= 99.5 % equal to onnxruntime-node and segment-video, the EF shown is segment-video's, downloads in its formats", async () => {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?video=${encodeURIComponent(`Videos/${video}.avi`)}`);
    const state = await finishedPageState(page);
    expect(errors).to.deep.equal([]);
    expect(state.summary, 'the page finished without an error').to.be.an('object');
    expect(state.backend).to.match(/wasm, \d+ threads?, SIMD \(cross-origin isolated\)/);
    const out = testOutputDir('web');
    await page.screenshot({ path: join(out, 'viewer.png'), fullPage: true });

    // Fair comparison: serve hands the browser a lossless, fully colour-tagged VP9 transcode of the
    // AVI, so the page's frames must be exactly the frames ffmpeg decodes from the AVI for
    // segment-video (checked first, with the neighbouring frame as the yardstick for a seek landing
    // one frame off). The masks then differ only by the runtimes (wasm vs native kernels, float
    // summation order): >= 99.5 % of pixels, and the same EF to the digit shown.
    const avi = await decodeVideo(join(dataDir, 'Videos', `${video}.avi`));
    expect(state.count).to.equal(avi.count);
    const plane = state.size * state.size * 3;
    const frameDiff = (f: number, g: number) => {
      let d = 0;
      for (let i = 0; i < plane; i++) d += Math.abs(state.frames[f * plane + i] - avi.frames[g * plane + i]);
      return d / plane;
    };
    const worst = Math.max(...Array.from({ length: state.count }, (_, f) => frameDiff(f, f)));
    const neighbour = Math.min(...Array.from({ length: state.count - 1 }, (_, f) => frameDiff(f, f + 1)));
    expect(worst, 'mean |difference| of the worst frame').to.be.below(0.05);
    expect(neighbour).to.be.above(1);

    // The page's frames through onnxruntime-node: the runtimes alone.
    const frames = {
      frames: state.frames,
      count: state.count,
      height: state.size,
      width: state.size,
      fps: state.fps,
    };
    const node = await segmentVideoFrames(frames, model, { mode: 'upstream' });
    const same = agreement(state.masks, node.masks);
    expect(same).to.be.at.least(0.995);

    // End to end: segment-video itself on the AVI (its mask.avi is lossless FFV1).
    const cliMasks = await segmentVideoMasks(cliOut);
    const endToEnd = agreement(state.masks, cliMasks);
    console.log(
      `      mask pixels agreeing: ${(100 * same).toFixed(3)} % (same frames), ${(100 * endToEnd).toFixed(3)} % (segment-video)`,
    );
    expect(endToEnd).to.be.at.least(0.995);
    expect(cli.meanEf, 'a finite EF, so the comparison means something').to.satisfy(Number.isFinite);
    expect(cli.beats.length, "several beats, so the mean EF is not just one beat's").to.be.at.least(2);
    expect(state.efShown).to.equal(`EF ${cli.meanEf!.toFixed(1)} %`);
    expect(Number(state.efData)).to.be.closeTo(cli.meanEf!, 0.05);
    expect(state.summary.frames).to.equal(cli.frames);
    expect(state.summary.fps).to.be.closeTo(cli.fps, 1e-9);
    expect(state.summary.windows).to.deep.equal(cli.windows);
    expect(state.summary.beats.map((b: { ed: number; es: number }) => [b.ed, b.es])).to.deep.equal(
      cli.beats.map((b) => [b.ed, b.es]),
    );

    // 3. The downloads are segment-video's formats.
    const download = async (label: string) => {
      const [d] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`#downloads button:has-text("${label}")`),
      ]);
      expect(d.suggestedFilename()).to.equal(label);
      return readFileSync((await d.path())!, 'utf8');
    };
    const csv = (await download('frames.csv')).trim().split('\n');
    expect(csv[0]).to.equal(readFileSync(join(cliOut, 'frames.csv'), 'utf8').split('\n')[0]);
    expect(csv).to.have.length(state.count + 1);
    const pageAreas = areaCurve(state.masks, state.count, state.size, state.size);
    const ed = new Set(state.summary.beats.map((b) => b.ed));
    csv.slice(1).forEach((row, f) => {
      const [frame, , area, , isEd] = row.split(',').map(Number);
      expect([frame, area, isEd], row).to.deep.equal([f, pageAreas[f], ed.has(f) ? 1 : 0]);
    });
    const summary = JSON.parse(await download('summary.json')) as SegmentSummary;
    expect(Object.keys(summary)).to.deep.equal(Object.keys(cli));
    expect(summary.meanEf).to.equal(state.summary.meanEf);
    await page.close();
  });

  it("<lv-segmenter> in a bare page: backend, ordered progress and result events (measured fps, segment-video's ED/ES and EF), an error event naming a missing model", async () => {
    const page = await chromium.context.newPage();
    const src = `/videos/Videos/${encodeURIComponent(video)}.avi?format=webm`;
    const html = `<!doctype html><html><body>
<script>
  window.events = [];
  for (const type of ['lv-backend', 'lv-progress', 'lv-result', 'lv-error'])
    document.addEventListener(type, (e) => window.events.push({ type, target: e.target.id, detail: e.detail }));
</script>
<script type="module" src="/lv-segmenter.js"></script>
<lv-segmenter id="echo" model="/model.onnx" src="${src}"></lv-segmenter>
<lv-segmenter id="broken" model="/no-such-model.onnx" src="${src}"></lv-segmenter>
</body></html>`;
    // A page of someone else's that embeds the element, on the server's origin (the element and
    // model come from serve) with the isolation headers serve would send.
    await page.route(`${server.url}embed.html`, (route) =>
      route.fulfill({
        body: html,
        contentType: 'text/html',
        headers: {
          'Cross-Origin-Opener-Policy': 'same-origin',
          'Cross-Origin-Embedder-Policy': 'require-corp',
        },
      }),
    );
    await page.goto(`${server.url}embed.html`);
    interface Recorded {
      type: string;
      target: string;
      detail: Record<string, unknown>;
    }
    const events = async () => page.evaluate(() => (window as unknown as { events: Recorded[] }).events);
    await page.waitForFunction(
      () => {
        const ev = (window as unknown as { events: Recorded[] }).events;
        return (
          ev.some((e) => e.target === 'echo' && (e.type === 'lv-result' || e.type === 'lv-error')) &&
          ev.some((e) => e.target === 'broken' && e.type === 'lv-error')
        );
      },
      null,
      { timeout: 240_000 },
    );
    const all = await events();
    const echo = all.filter((e) => e.target === 'echo');
    expect(echo.filter((e) => e.type === 'lv-error')).to.deep.equal([]);
    expect(echo.find((e) => e.type === 'lv-backend')?.detail.backend).to.equal('wasm');

    const progress = echo
      .filter((e) => e.type === 'lv-progress')
      .map((e) => e.detail as { stage: string; done: number; total: number });
    const stages = progress.map((p) => p.stage).filter((s, i, a) => s !== a[i - 1]);
    expect(stages).to.deep.equal(['model', 'decode', 'segment']);
    for (let i = 1; i < progress.length; i++)
      if (progress[i].stage === progress[i - 1].stage)
        expect(progress[i].done).to.be.at.least(progress[i - 1].done);
    const last = (stage: string) => progress.filter((p) => p.stage === stage).pop()!;
    expect(last('decode')).to.deep.include({ done: cli.frames, total: cli.frames });
    expect(last('segment')).to.deep.include({ done: cli.windows.count, total: cli.windows.count });

    const results = echo.filter((e) => e.type === 'lv-result');
    expect(results).to.have.length(1);
    const r = results[0].detail as unknown as SegmentationResultDetail;
    // No fps attribute: the element measured the frame rate from the presented frames.
    expect(r.frames).to.equal(cli.frames);
    expect(r.fps).to.be.closeTo(cli.fps, cli.fps * 0.005);
    expect(r.areas).to.have.length(cli.frames);
    expect(r.edFrames).to.deep.equal(cli.beats.map((b) => b.ed));
    expect(r.esFrames).to.deep.equal(cli.beats.map((b) => b.es));
    expect(r.ef).to.be.closeTo(cli.meanEf!, 0.05);
    expect(r.ef).to.equal(r.summary.meanEf);
    const csvAreas = readFileSync(join(cliOut, 'frames.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[2]));
    r.areas.forEach((a, f) =>
      expect(Math.abs(a - csvAreas[f]), `frame ${f}`).to.be.at.most(0.01 * csvAreas[f] + 1),
    );

    const broken = all.filter((e) => e.target === 'broken' && e.type === 'lv-error');
    expect(broken).to.have.length(1);
    expect(broken[0].detail.message).to.match(/no-such-model\.onnx: 404/);
    await page.close();
  });
  it("segments a served DICOM named only by its content (segment-video's frames, fps, pixel spacing, masks >= 99.5 %, EF, mL units, frames.csv columns), shows it in its proportions with volumes in mL, reads it alike as a dropped File, and names bad DICOM/AVI files in its errors", async () => {
    // A scanner export: a JPEG-baseline cine loop (62 frames of 96x80 at 50 fps, 0.3 x 0.25 mm
    // pixels in its ultrasound region) with no file extension.
    const dir = tmp('dicom-data');
    copyFileSync(join(DICOM_FIXTURES, 'us_jpeg.dcm'), join(dir, 'IM0001'));
    const dicomServer = await startServer({ dataPath: dir, modelFile, port: 0 });
    const out = tmp('dicom-segment');
    const cliDicom = await segmentVideo({ videoPath: join(dir, 'IM0001'), outDir: out, model }, () => {});
    const page = await chromium.context.newPage();
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${dicomServer.url}?video=IM0001`);
      const state = await finishedPageState(page);
      expect(errors).to.deep.equal([]);
      expect(state.summary, 'the page finished without an error').to.be.an('object');
      await page.screenshot({ path: join(testOutputDir('web'), 'viewer-dicom.png'), fullPage: true });

      // The same decoder on both sides: the page's frames are segment-video's, byte for byte.
      const dicom = await readDicomVideo(join(dir, 'IM0001'));
      expect([state.count, state.size, state.height, state.fps]).to.deep.equal([62, 96, 80, 50]);
      expect(Buffer.from(state.frames).equals(Buffer.from(dicom.frames))).to.be.true;

      const cliMasks = await segmentVideoMasks(out);
      expect(agreement(state.masks, cliMasks)).to.be.at.least(0.995);
      expect(state.summary.spacing).to.deep.equal({ x: 0.3, y: 0.25, source: 'SequenceOfUltrasoundRegions' });
      expect(state.summary.spacing).to.deep.equal(cliDicom.spacing);
      expect(state.summary.units).to.deep.equal(cliDicom.units);
      expect(state.summary.source).to.deep.include({
        format: 'dicom',
        fpsFrom: 'FrameTime',
        width: 96,
        height: 80,
      });
      expect(state.summary.beats.map((b) => [b.ed, b.es])).to.deep.equal(
        cliDicom.beats.map((b) => [b.ed, b.es]),
      );
      if (cliDicom.meanEf === null) expect(state.summary.meanEf).to.equal(null);
      else expect(state.summary.meanEf).to.be.closeTo(cliDicom.meanEf, 0.05);
      const csv = await page.evaluate(() =>
        (document.querySelector('lv-segmenter') as PageSegmenter).framesCsv(),
      );
      const cliCsv = readFileSync(join(out, 'frames.csv'), 'utf8');
      expect(csv.split('\n')[0])
        .to.equal(cliCsv.split('\n')[0])
        .and.to.match(/area_cm2,smoothed_area_cm2$/);
      expect(csv.trim().split('\n')).to.have.length(63);

      // Shown in the frame's own proportions (96x80, not squeezed square), volumes in mL.
      const shown = await page.evaluate(() => {
        const root = document.querySelector('lv-segmenter')!.shadowRoot!;
        const box = root.querySelector('canvas')!.getBoundingClientRect();
        return {
          ratio: box.width / box.height,
          hr: root.querySelector('.hr')!.textContent!,
          table: root.querySelector('.beats')!.textContent!,
        };
      });
      expect(shown.ratio).to.be.closeTo(96 / 80, 0.01);
      expect(state.summary.meanEdvMl, 'beats with volumes, so the display is checked').to.be.a('number');
      expect(shown.hr).to.contain(
        `EDV ${state.summary.meanEdvMl!.toFixed(1)} mL, ESV ${state.summary.meanEsvMl!.toFixed(1)} mL`,
      );
      expect(shown.table).to.contain('EDV mL');

      // The same file dropped on the page as a File without extension: recognised by its content.
      const dropped = await page.evaluate(async () => {
        const el = document.querySelector('lv-segmenter') as PageSegmenter & {
          load(r: {
            model: string;
            video: Blob;
          }): Promise<{ frames: number; fps: number; summary: SegmentSummary }>;
        };
        const bytes = await (await fetch('videos/IM0001')).arrayBuffer();
        const decodeProgress: [number, number][] = [];
        el.addEventListener('lv-progress', (e) => {
          const p = (e as CustomEvent<{ stage: string; done: number; total: number }>).detail;
          if (p.stage === 'decode') decodeProgress.push([p.done, p.total]);
        });
        const r = await el.load({ model: 'model.onnx', video: new File([bytes], 'IM0001') });
        return {
          decodeProgress,
          frames: r.frames,
          fps: r.fps,
          spacing: r.summary.spacing,
          ef: r.summary.meanEf,
        };
      });
      expect(dropped).to.deep.include({ frames: 62, fps: 50, ef: state.summary.meanEf });
      expect(dropped.spacing).to.deep.equal(state.summary.spacing);
      // Decoded frame by frame in the decoding worker, with progress: not one blocking step.
      expect(workers.filter((u) => u.endsWith('/decode-worker.js')).length).to.be.at.least(1);
      expect(dropped.decodeProgress.length).to.be.above(10);
      expect(dropped.decodeProgress.at(-1)).to.deep.equal([62, 62]);

      // Bad files get the readers' errors, naming the file, on the status line and in lv-error.
      const bad = await page.evaluate(async () => {
        const el = document.querySelector('lv-segmenter') as PageSegmenter & {
          load(r: { model: string; video: Blob }): Promise<unknown>;
        };
        const bytes = new Uint8Array(await (await fetch('videos/IM0001')).arrayBuffer());
        const errors: string[] = [];
        el.addEventListener('lv-error', (e) =>
          errors.push((e as CustomEvent<{ message: string }>).detail.message),
        );
        const tries: [string, Uint8Array<ArrayBuffer>][] = [
          ['notes.dcm', new TextEncoder().encode('exported by the scanner')],
          ['cut-short', bytes.subarray(0, 40_000)],
          [
            'cut.avi',
            Uint8Array.from([
              ...new TextEncoder().encode('RIFF'),
              200,
              0,
              0,
              0,
              ...new TextEncoder().encode('AVI LIST'),
            ]),
          ],
        ];
        const thrown: string[] = [];
        for (const [name, data] of tries)
          await el
            .load({ model: 'model.onnx', video: new File([data], name) })
            .catch((e: Error) => thrown.push(e.message));
        const status = el.shadowRoot!.querySelector('.message.error')?.textContent ?? '';
        return { thrown, errors, status };
      });
      expect(bad.thrown[0]).to.match(/^notes\.dcm: not a DICOM Part 10 file/);
      expect(bad.thrown[1]).to.match(/^cut-short: truncated/);
      expect(bad.thrown[2]).to.match(/^cut\.avi: AVI file without its header list/);
      expect(bad.errors).to.deep.equal(bad.thrown);
      expect(bad.status).to.equal(bad.thrown[2]);
    } finally {
      await page.close();
      await dicomServer.close();
    }
  });
  it("decodes one file per codec family in the page's decoding worker to segment-video's frames, byte for byte, the WebAssembly codecs fetched from serve only once a JPEG-LS or JPEG 2000 file needs them", async () => {
    // In this order: files with pure-JavaScript codecs first, then each WebAssembly one.
    const files = [
      'dcmtk-rle-rgb.dcm',
      'dcmtk-rle-palette.dcm',
      'src-palette-seg16.dcm',
      'dcmtk-be-ow-rgb.dcm',
      'gdcm-jpeg-ll70-mono16.dcm',
      'dcmtk-jpeg-progressive-rgb.dcm',
      'gdcm-jpeg-lossy-rgb.dcm',
      'dcmtk-jpegls-rgb.dcm',
      'gdcm-jpegls-near-rgb.dcm',
      'gdcm-j2k-rgb.dcm',
      'gdcm-j2k-lossy-mono16.dcm',
    ];
    const page = await chromium.context.newPage();
    const wasm: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('.wasm') && r.url().includes('/codecs/')) wasm.push(r.url().split('/').pop()!);
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(server.url);
      const fetchedBefore: Record<string, string[]> = {};
      for (const file of files) {
        fetchedBefore[file] = [...new Set(wasm)];
        const bytes = readFileSync(codecFixture(file)).toString('base64');
        const decoded = await page.evaluate(
          async ({ name, b64 }) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const worker = new Worker('decode-worker.js', { type: 'module' });
            const frames = await new Promise<{ video: { frames: Uint8Array; count: number; fps: number } }>(
              (resolve, reject) => {
                worker.onmessage = (e: MessageEvent<{ frames?: never; error?: string }>) => {
                  if (e.data.frames) resolve(e.data.frames);
                  else if (e.data.error) reject(new Error(e.data.error));
                };
                worker.onerror = (e) => reject(new Error(e.message));
                worker.postMessage({ format: 'dicom', name, bytes });
              },
            );
            worker.terminate();
            const { bytesToBase64 } = globalThis as unknown as PageHelpers;
            return {
              frames: bytesToBase64(frames.video.frames),
              count: frames.video.count,
              fps: frames.video.fps,
            };
          },
          { name: file, b64: bytes },
        );
        const node = await readDicomVideo(codecFixture(file));
        expect([decoded.count, decoded.fps], file).to.deep.equal([node.count, node.fps]);
        expect(Buffer.from(decoded.frames, 'base64').equals(Buffer.from(node.frames)), file).to.equal(true);
      }
      expect(errors).to.deep.equal([]);
      expect(fetchedBefore['dcmtk-jpegls-rgb.dcm'], 'no codec fetched for the JavaScript ones').to.deep.equal(
        [],
      );
      expect(fetchedBefore['gdcm-j2k-rgb.dcm']).to.deep.equal(['charlswasm_decode.wasm']);
      expect([...new Set(wasm)]).to.deep.equal(['charlswasm_decode.wasm', 'openjpegwasm_decode.wasm']);
    } finally {
      await page.close();
    }
  });
  it("segments a dropped Motion-JPEG AVI with the page's own AVI reader (no serve transcode): segment-video's frame count and rate, masks >= 99.5 % equal to its, its ED/ES frames and EF to 0.5 points", async () => {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(server.url);
      await page.waitForFunction(
        () =>
          !(document.getElementById('run') as HTMLButtonElement).disabled ||
          document.getElementById('model-name')!.textContent !== 'none',
      );
      await page.setInputFiles('#video-file', join(dataDir, 'Videos', `${video}.avi`));
      const state = await finishedPageState(page);
      expect(errors).to.deep.equal([]);
      expect(state.summary, 'the page finished without an error').to.be.an('object');
      expect([state.count, state.fps]).to.deep.equal([cli.frames, cli.fps]);
      const cliMasks = await segmentVideoMasks(cliOut);
      const same = agreement(state.masks, cliMasks);
      console.log(
        `      mask pixels agreeing: ${(100 * same).toFixed(3)} %, EF ${state.summary.meanEf} vs ${cli.meanEf}`,
      );
      expect(same).to.be.at.least(0.995);
      // jpeg-js and ffmpeg decode the JPEGs to within one grey level (mean 0.03; test/data/avi-mjpeg),
      // which moves a few mask pixels of this untrained model, and its EF slightly.
      expect(state.summary.meanEf).to.be.closeTo(cli.meanEf!, 0.5);
      expect(state.summary.beats.map((b) => [b.ed, b.es])).to.deep.equal(cli.beats.map((b) => [b.ed, b.es]));
    } finally {
      await page.close();
    }
  });

  it("runs the super-image UniFormer-S U-Net served as the model (uniformer_small, PyTorch fixture weights at width 1/16, T=4): masks >= 99.5 % equal to onnxruntime-node's on the page's frames, neither all LV nor all background", async () => {
    // model.onnx alone (no training graphs) with the weights PyTorch wrote.
    const fixture = fileURLToPath(new URL('../../../test/fixtures/uniformer/plain.pt', import.meta.url));
    const arch = { encoder: 'uniformer_small', widthMult: 0.0625 } as const;
    const weights = (await loadCheckpoint(fixture, weightsLayout(arch))).params;
    const modelPath = join(tmp('uniformer'), 'model.onnx');
    writeFileSync(modelPath, inferenceModelBytes({ ...arch, frames: 4, period: 1 }, weights));
    const uniformer = await loadSegmentationModel({ model: modelPath });
    const uniServer = await startServer({
      dataPath: dataDir,
      modelFile: modelPath,
      port: 0,
      transcodeDir: tmp('transcoded-uniformer'),
    });
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${uniServer.url}?video=${encodeURIComponent(`Videos/${video}.avi`)}`);
      const state = await finishedPageState(page);
      expect(errors).to.deep.equal([]);
      expect(state.summary, 'the page finished without an error').to.be.an('object');
      const config = (await (await fetch(`${uniServer.url}api/config`)).json()) as {
        model: { encoder: string; frames: number };
      };
      expect(config.model).to.deep.include({ encoder: 'uniformer_small', frames: 4 });
      const frames = {
        frames: state.frames,
        count: state.count,
        height: state.size,
        width: state.size,
        fps: state.fps,
      };
      const node = await segmentVideoFrames(frames, uniformer, { mode: 'upstream' });
      expect(agreement(state.masks, node.masks)).to.be.at.least(0.995);
      const lv = state.masks.reduce((a, v) => a + v, 0) / state.masks.length;
      expect(lv).to.be.within(0.01, 0.99);
    } finally {
      await page.close();
      await uniServer.close();
      await uniformer.release();
    }
  });
});
