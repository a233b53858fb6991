import { expect } from 'chai';
import { zipSync } from 'fflate';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { readCheckpoint } from '../../src/artifacts/checkpoint.js';
import type { ArtifactSet } from '../../src/artifacts/index.js';
import { readSafetensors } from '../../src/artifacts/safetensors.js';
import { readFileList, readVolumeTracings } from '../../src/data/csv-files.js';
import { openEchoNet } from '../../src/data/echonet.js';
import { tracingToMask } from '../../src/data/polygon.js';
import { edFrame, esFrame } from '../../src/data/tracings.js';
import { outlineFromTracing, resampleOutline, tracingFromOutline } from '../../src/infer/cardiac/tracing.js';
import { fileListLine, FILE_LIST_COLUMNS, parseFileList } from '../../src/data/filelist.js';
import { frameDice, overlap } from '../../src/eval/metrics.js';
import { loadSegmentationModel } from '../../src/infer/model.js';
import { segmentVideoFrames } from '../../src/infer/segment-core.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { runTraining } from '../../src/train/loop.js';
import { defaultTrainOptions } from '../../src/train/options.js';
import { PhaseRunner } from '../../src/train/runner.js';
import { launchChromium, type Chromium, type PageHelpers } from '../../tools/chromium.js';
import { weakBatchFromPage } from '../../tools/page-batch.js';
import { synthDataset, tinyArtifactSet } from '../helpers/fixtures.js';
import { testOutputDir } from '../helpers/output.js';
import { tempDirs } from '../helpers/tmp.js';
import { agreement, expectDownloadsAsPage, finishedPageState } from '../helpers/viewer-page.js';

const tmp = tempDirs('unilvseg-finetune');

/** What the tests read of <lv-segmenter>'s teaching part (web/src/teach.ts). */
interface PageTeacher extends HTMLElement {
  videoName: string;
  modelBytes?: Uint8Array;
  masks?: Uint8Array;
  result?: unknown;
  resegment(): Promise<unknown>;
  teach: {
    files?: unknown;
    current?: { name: string; model?: unknown };
    tuned?: { model: Uint8Array; checkpoint: Uint8Array };
    fineTune(o: Record<string, unknown>): Promise<FineTuned>;
    cancel(): void;
  };
}

interface FineTuned {
  losses: number[];
  dscBefore: number | null;
  dscAfter: number | null;
  trainFrames: number;
  heldOutFrames: number;
  backend: string;
  secondsPerStep: number;
  firstBatch?: { frames: Uint8Array; trace_mask: Float32Array; trace_index: BigInt64Array };
}

/**
 * Opens a served video in the page and waits until it is segmented and, for a video with
 * tracings (`traced`), until its record has the frames fine-tuning trains on.
 */
async function openVideo(page: Page, name: string, traced = true): Promise<void> {
  await page.selectOption('#video-list', `Videos/${name}.avi`);
  await page.waitForFunction(
    ([n, traced]) => {
      const e = document.querySelector('lv-segmenter') as unknown as PageTeacher;
      const done =
        e.result &&
        e.videoName === `${n}.avi` &&
        (!traced || (e.teach.current?.name === n && e.teach.current.model));
      return done || e.shadowRoot!.querySelector('.message.error');
    },
    [name, traced] as const,
    { timeout: 120_000 },
  );
}

/** The status line's text (errors included). */
const statusLine = (page: Page) =>
  page.evaluate(
    () => document.querySelector('lv-segmenter')!.shadowRoot!.querySelector('.message')!.textContent!,
  );

describe('teaching the model in the browser (Chromium, onnxruntime-web wasm): tracings, fine-tuning, export', function () {
  this.timeout(600_000);
  let chromium: Chromium;
  let server: RunningServer;
  let dataDir: string;
  let names: string[];
  let fileListPath: string;
  let set: ArtifactSet;

  before(async () => {
    dataDir = await synthDataset();
    // 64x64: the 112x112 videos go through the sector crop, and tracings with them; steps are cheap.
    set = await tinyArtifactSet('3d_unet_small', 0.0625, 16, { size: 64 });
    server = await startServer({
      dataPath: dataDir,
      modelFile: set.files.model,
      port: 0,
      transcodeDir: tmp('tx'),
    });
    // Three videos to train on, one held out (the dataset's own FileList with our splits).
    const rows = readFileList(join(dataDir, 'FileList.csv')).slice(0, 4);
    names = rows.map((r) => r.fileName);
    fileListPath = join(tmp('csv'), 'FileList.csv');
    writeFileSync(
      fileListPath,
      [
        FILE_LIST_COLUMNS.join(','),
        ...rows.map((r, i) => fileListLine({ ...r, split: i < 3 ? 'TRAIN' : 'VAL' })),
      ].join('\n') + '\n',
    );
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("fine-tunes an untrained model from traced frames: held-out DSC rises by >= 0.2; the first step's loss is onnxruntime-node's on the same batch and weights (2e-6); the downloaded checkpoint.safetensors (upstream's state dict for the width: keys, order, shapes; then AdamW's state) and model.onnx segment the video as the page does (>= 99.5 %); cancel keeps the weights; bad training files are refused", async () => {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?video=${encodeURIComponent(`Videos/${names[0]}.avi`)}`);
    await finishedPageState(page);
    // The dataset's tracings of the four videos, read back into the session; then each video opened once.
    await page.setInputFiles('#tracings-file', [join(dataDir, 'VolumeTracings.csv'), fileListPath]);
    for (const n of names.slice(1)) await openVideo(page, n);
    await openVideo(page, names[0]);
    await page.waitForFunction(
      () => !!(document.querySelector('lv-segmenter') as unknown as PageTeacher).teach.files,
    );

    const r = await page.evaluate(async () => {
      const e = document.querySelector('lv-segmenter') as unknown as PageTeacher;
      const res = await e.teach.fineTune({ steps: 40, lr: 1e-2, batchSize: 2, keepFirstBatch: true });
      const { bytesToBase64: b64 } = globalThis as unknown as PageHelpers;
      const f = res.firstBatch!;
      return { ...res, firstBatch: undefined, batch: [b64(f.frames), b64(f.trace_mask), b64(f.trace_index)] };
    });
    console.log(
      `      ${r.trainFrames} frames, ${r.losses.length} steps on ${r.backend} (${r.secondsPerStep.toFixed(2)} s/step): loss ${r.losses[0].toFixed(4)} -> ${r.losses.at(-1)!.toFixed(4)}, held-out DSC ${r.dscBefore!.toFixed(3)} -> ${r.dscAfter!.toFixed(3)}`,
    );
    expect(errors).to.deep.equal([]);
    expect([r.trainFrames, r.heldOutFrames]).to.deep.equal([6, 2]);
    expect(r.losses).to.have.length(40);
    expect(r.dscAfter! - r.dscBefore!).to.be.at.least(0.2);

    // 1. The first step against onnxruntime-node: ort-train's runner, the page's batch, the set's weights.
    const runner = await PhaseRunner.open(set, 'weak', { threads: 1 });
    const state = readCheckpoint(set.files.checkpoint, set.manifest);
    const node = await runner.step(state, weakBatchFromPage(r.batch), 1e-2);
    await runner.release();
    console.log(`      first step's loss: page ${r.losses[0]}, onnxruntime-node ${node.loss}`);
    // 1.8e-7 apart when measured (float32 kernels of wasm and of the native CPU). The issue asks for
    // 1e-4, which the page's starting weights all scaled by 1.01 still met (1.5e-5: the norms after
    // each conv hide most of it), so the check is tighter.
    expect(Math.abs(r.losses[0] - node.loss)).to.be.below(2e-6);

    // 2. The downloads: the checkpoint in upstream's names and layouts (the set's own checkpoint's
    // tensors, same order, shapes and types, plus AdamW's state), loaded by segment-video's
    // --checkpoint path; the model.onnx with the weights baked in. Both segment the page's frames
    // as the page did with the tuned weights.
    const download = async (id: string, name: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
      expect(d.suggestedFilename()).to.equal(name);
      const path = join(tmp('downloads'), name);
      await d.saveAs(path);
      return path;
    };
    const checkpoint = await download('dl-checkpoint', 'checkpoint.safetensors');
    const modelFile = await download('dl-model', 'model.onnx');
    const ours = readSafetensors(checkpoint);
    const initial = readSafetensors(set.files.checkpoint);
    const layout = (m: typeof ours, keys: string[]) =>
      keys.map((k) => `${k} ${m.tensors.get(k)!.dtype} [${m.tensors.get(k)!.shape}]`);
    const weights = [...initial.tensors.keys()];
    expect([...ours.tensors.keys()].filter((k) => initial.tensors.has(k))).to.deep.equal(weights);
    expect(layout(ours, weights)).to.deep.equal(layout(initial, weights));
    for (const p of set.manifest.params.filter((q) => q.kind === 'param'))
      for (const suffix of set.manifest.weak.stateSuffixes)
        expect(ours.tensors.has(`${p.name}.${suffix}`)).to.equal(true);
    expect(ours.metadata).to.deep.include({ step: '40', encoder: '3d_unet_small' });

    // Upstream's state dict for this width, then AdamW's state; both downloads segment as the page.
    const { tuned, video } = await expectDownloadsAsPage(page, set, { checkpoint, model: modelFile });
    // The tuned weights are what segments now: the untrained model's masks differ.
    const untrained = await loadSegmentationModel({ model: set.files.model, threads: 1 });
    const before = (await segmentVideoFrames(video, untrained, { mode: 'upstream' })).masks;
    await untrained.release();
    expect(agreement(tuned.masks, before)).to.be.below(0.95);

    // 3. Cancel: the weights in use, the downloads and the masks stay as they were.
    const kept = await page.evaluate(async () => {
      const e = document.querySelector('lv-segmenter') as unknown as PageTeacher;
      const sum = (a: Uint8Array) => a.reduce((x, v, i) => (x + v * ((i % 9973) + 1)) % 2147483647, 0);
      const snapshot = () => ({
        model: sum(e.modelBytes!),
        masks: sum(e.masks!),
        tuned: sum(e.teach.tuned!.checkpoint),
      });
      const before = snapshot();
      const stepped = new Promise((resolve) => e.addEventListener('lv-finetune', resolve, { once: true }));
      const run = e.teach.fineTune({ steps: 500, lr: 1e-2 });
      await stepped;
      e.teach.cancel();
      const message = await run.then(
        () => 'finished',
        (err: Error) => err.message,
      );
      await e.resegment();
      return { message, before, after: snapshot() };
    });
    expect(kept.message).to.match(
      /^fine-tuning cancelled after \d+ of 500 steps: the previous weights stay in use$/,
    );
    expect(kept.after).to.deep.equal(kept.before);
    expect(await statusLine(page)).to.match(/segmented/);

    // 4. Bad training files, refused with a message: a folder without the train graphs, and the
    // train graphs of another model (width 1/8) as a zip.
    const folder = tmp('no-graphs');
    copyFileSync(set.files.model, join(folder, 'model.onnx'));
    copyFileSync(set.files.manifest, join(folder, 'manifest.json'));
    await page.setInputFiles('#training-folder', folder);
    await page.waitForFunction(() =>
      document.querySelector('lv-segmenter')!.shadowRoot!.querySelector('.message.error'),
    );
    expect(await statusLine(page)).to.match(
      /^folder unilvseg-finetune-no-graphs-\w+ has no train_weak\.onnx, optimizer_weak\.onnx: fine-tuning needs/,
    );
    const other = await tinyArtifactSet('3d_unet_small', 0.125, 16, { size: 64 });
    const zip = join(tmp('zip'), 'other-set.zip');
    writeFileSync(
      zip,
      zipSync(
        Object.fromEntries(
          ['manifest', 'train_weak', 'optimizer_weak'].map((k) => [
            `other-set/${basename(other.files[k as 'manifest'])}`,
            readFileSync(other.files[k as 'manifest']),
          ]),
        ),
      ),
    );
    await page.setInputFiles('#training-zip', zip);
    await page.waitForFunction(() =>
      /another model/.test(
        document.querySelector('lv-segmenter')!.shadowRoot!.querySelector('.message')!.textContent!,
      ),
    );
    expect(await statusLine(page)).to.match(
      /^other-set\.zip: these training graphs belong to another model than model\.onnx \(served\) \(fine-tuned\) \(\d+ differences\):\n {2}encoder1\.0\.conv\.unit0\.conv\.weight is \[\d+,3,3,3,3\] in the training graphs, \[\d+,3,3,3,3\] in model\.onnx/,
    );
    expect(
      await page.evaluate(
        () => (document.querySelector('lv-segmenter') as unknown as PageTeacher).teach.files,
      ),
    ).to.equal(undefined);
    expect(await page.locator('lv-segmenter .tune').isDisabled()).to.equal(true);
    await page.screenshot({ path: join(testOutputDir('web'), 'viewer-finetuned.png'), fullPage: true });
  });

  it('traces by clicks and by dragging a point, marks ED/ES, downloads EchoNet CSVs (ES rows first, ED last) that read back into the page and that ort-train trains from', async () => {
    // A page of its own origin (so its own IndexedDB) on two of the videos.
    const dir = tmp('traced-data');
    mkdirSync(join(dir, 'Videos'));
    for (const n of names.slice(0, 2))
      copyFileSync(join(dataDir, 'Videos', `${n}.avi`), join(dir, 'Videos', `${n}.avi`));
    const traceServer = await startServer({
      dataPath: dir,
      modelFile: set.files.model,
      port: 0,
      transcodeDir: tmp('tx2'),
    });
    const truth = readVolumeTracings(join(dataDir, 'VolumeTracings.csv'));
    const page = await chromium.context.newPage();
    try {
      await page.goto(`${traceServer.url}?video=${encodeURIComponent(`Videos/${names[0]}.avi`)}`);
      await finishedPageState(page);
      const canvas = page.locator('lv-segmenter canvas');
      const button = (label: string) => page.locator(`lv-segmenter button:has-text("${label}")`);
      /** Where video pixel (x, y) is on the screen. */
      const onScreen = async (x: number, y: number) => {
        const box = (await canvas.boundingBox())!;
        return [box.x + ((x + 0.5) * box.width) / 112, box.y + ((y + 0.5) * box.height) / 112] as const;
      };
      /** Draws the synthetic tracing's outline (16 of its points) on frame `frame` by clicks, closes it on its first point. */
      const drawOutline = async (frame: number, rows: number[][]) => {
        await page.evaluate(
          (f) =>
            (document.querySelector('lv-segmenter') as unknown as { showFrame(f: number): void }).showFrame(
              f,
            ),
          frame,
        );
        await button('Draw outline').click();
        const o = resampleOutline(outlineFromTracing(rows), 16);
        for (let i = 0; i <= o.x.length; i++)
          await page.mouse.click(...(await onScreen(o.x[i % 16], o.y[i % 16])));
        return o;
      };
      const traced: Record<string, { ed: number; es: number; edRows: number[][] }> = {};
      for (const [k, n] of names.slice(0, 2).entries()) {
        if (k > 0) await openVideo(page, n, false);
        const t = truth.get(`${n}.avi`)!;
        const [ed, es] = [edFrame(t), esFrame(t)];
        // ES first in the page, ED second: the CSV's order comes from the marks, not from the clicks.
        await drawOutline(es, t.rows.get(es)!);
        await button('Mark ES').click();
        const o = await drawOutline(ed, t.rows.get(ed)!);
        // Drag the fifth point 3 pixels right before marking: the saved tracing follows the edit.
        const from = await onScreen(o.x[4], o.y[4]);
        await page.mouse.move(...from);
        await page.mouse.down();
        await page.mouse.move(...(await onScreen(o.x[4] + 3, o.y[4])), { steps: 4 });
        await page.mouse.up();
        await button('Mark ED').click();
        await page.selectOption('lv-segmenter .split', k === 0 ? 'TRAIN' : 'VAL');
        o.x[4] += 3;
        traced[n] = { ed, es, edRows: tracingFromOutline(o, 112, 112) };
      }
      const download = async (label: string) => {
        const [d] = await Promise.all([
          page.waitForEvent('download'),
          page.click(`#teaching button:has-text("${label}")`),
        ]);
        const path = join(dir, d.suggestedFilename());
        await d.saveAs(path);
        return path;
      };
      const vtPath = await download('VolumeTracings.csv');
      const flPath = await download('FileList.csv');
      expect(basename(vtPath)).to.equal('VolumeTracings.csv');

      // What the page wrote: per video 21 rows for ES, then 21 for ED, the marked frames; the ED
      // tracing is the dragged outline's (within the click's rounding to screen pixels).
      const written = readVolumeTracings(vtPath);
      const list = readFileList(flPath);
      const byName = (a: string[], b: string[]) => a[0].localeCompare(b[0]);
      expect(
        list.map((r) => [r.fileName, r.split, `${r.frameWidth}x${r.frameHeight}`]).sort(byName),
      ).to.deep.equal(
        [
          [names[0], 'TRAIN', '112x112'],
          [names[1], 'VAL', '112x112'],
        ].sort(byName),
      );
      for (const n of names.slice(0, 2)) {
        const w = written.get(`${n}.avi`)!;
        expect([esFrame(w), edFrame(w)], n).to.deep.equal([traced[n].es, traced[n].ed]);
        expect(w.rows.get(w.frames[0])).to.have.length(21);
        const dice = (a: Uint8Array, b: Uint8Array) => frameDice(overlap(a, b));
        const ed = w.rows.get(edFrame(w))!;
        expect(dice(tracingToMask(ed), tracingToMask(traced[n].edRows)), `${n} ED as drawn`).to.be.above(
          0.97,
        );
        const t = truth.get(`${n}.avi`)!;
        expect(
          dice(tracingToMask(w.rows.get(esFrame(w))!), tracingToMask(t.rows.get(esFrame(t))!)),
          `${n} ES`,
        ).to.be.above(0.9);
        expect(list.find((r) => r.fileName === n)!.ef).to.be.within(0, 100);
      }

      // Read back into the page: after clearing the session, the CSVs give the same tracings.
      const reloaded = await page.evaluate(async () => {
        const e = document.querySelector('lv-segmenter') as unknown as PageTeacher & {
          teach: { clear(): Promise<void>; records(): Promise<{ name: string; ed?: unknown }[]> };
        };
        await e.teach.clear();
        return (await e.teach.records()).length;
      });
      expect(reloaded).to.equal(0);
      await page.setInputFiles('#tracings-file', [vtPath, flPath]);
      await page.waitForFunction(() =>
        /2 traced videos loaded/.test(document.getElementById('tracings-note')!.textContent!),
      );
      const again = await page.evaluate(async () => {
        const e = document.querySelector('lv-segmenter') as unknown as {
          teach: { csvs(): Promise<{ volumeTracings: string; fileList: string }> };
        };
        return e.teach.csvs();
      });
      expect(again.volumeTracings).to.equal(readFileSync(vtPath, 'utf8'));
      // The volumes come from the rows, which the CSV holds to 4 decimals: the same to 1e-5.
      const rereadList = parseFileList(again.fileList, 'again');
      rereadList.forEach((r, i) => {
        expect({ ...r, esv: 0, edv: 0, line: 0 }).to.deep.equal({ ...list[i], esv: 0, edv: 0, line: 0 });
        expect(r.esv / list[i].esv).to.be.closeTo(1, 1e-5);
        expect(r.edv / list[i].edv).to.be.closeTo(1, 1e-5);
      });

      // ort-train on the page's rows: the EchoNet folder is the two videos and the two CSVs.
      const echonet = openEchoNet(dir, 'all');
      const frames = (v: { fileName: string; edFrame: number; esFrame: number }) =>
        `${v.fileName} ED ${v.edFrame} ES ${v.esFrame}`;
      expect(echonet.map(frames).sort()).to.deep.equal(
        names
          .slice(0, 2)
          .map((n) => frames({ fileName: `${n}.avi`, edFrame: traced[n].ed, esFrame: traced[n].es }))
          .sort(),
      );
      const set112 = await tinyArtifactSet();
      const out = tmp('ort-train');
      const summary = await runTraining({
        ...defaultTrainOptions('weak'),
        dataPath: dir,
        out,
        artifacts: set112.dir,
        encoder: set112.manifest.model.encoder,
        widthMult: set112.manifest.model.widthMult,
        frames: set112.manifest.model.frames,
        batchSize: 2,
        epochs: 1,
        numWorkers: 1,
        threads: 1,
        test: false,
      });
      const steps = readFileSync(join(out, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; loss?: number; val_dsc?: number })
        .filter((l) => l.event === 'step');
      expect(summary.steps).to.equal(1); // one TRAIN video: its ED and ES in one batch of 2
      expect(steps.map((s) => Number.isFinite(s.loss))).to.deep.equal([true]);
      expect(summary.skipped).to.equal(0);
    } finally {
      await page.close();
      await traceServer.close();
    }
  });
});
