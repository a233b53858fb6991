/**
 * Browser fine-tuning bench: seconds per weak-supervision train step (train graph + AdamW graph) of
 * the demo's model (3d_unet_small x0.25, T=16, 112x112, batch 2) in the viewer's training worker
 * (onnxruntime-web wasm, threads, cross-origin isolated under `serve`), against ort-train's runner
 * (onnxruntime-node) on the page's own first batch, same thread count, in the same run. The page's
 * steps are the viewer's real ones: tracings read from CSVs into the page, the videos opened once,
 * then `teach.fineTune`; its per-step figure is the graphs' time (`stepSeconds`), and the time
 * with building the augmented batch is given beside it. Section `browserTrain` of `npm run bench`,
 * or alone: `node dist/tools/bench-browser-train.js` prints its JSON.
 *
 * Section `browserTrainWebgpu` (`node dist/tools/bench-browser-train.js --webgpu`): the browser
 * tests' model (x1/16, 32x32, the WebGPU-form set) in Chromium with WebGPU on SwiftShader, the same
 * steps on the page's WebGPU, then on its wasm, against onnxruntime-node. SwiftShader is a software
 * adapter (the CPU emulates the GPU): its figure says nothing about a real GPU.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArtifactSet } from '../src/artifacts/build.js';
import { readCheckpoint } from '../src/artifacts/checkpoint.js';
import { FILE_LIST_COLUMNS, fileListLine } from '../src/data/filelist.js';
import { generateDataset } from '../src/data/synth/dataset.js';
import { startServer } from '../src/serve/server.js';
import { PhaseRunner } from '../src/train/runner.js';
import { median } from './bench-common.js';
import { launchChromium, type PageHelpers } from './chromium.js';
import { weakBatchFromPage } from './page-batch.js';

const BATCH = 2;

interface PageResult {
  stepSeconds: number[];
  elapsed: number[];
  seconds: number;
  backend: string;
  losses: number[];
  batch: string[];
}

export function benchBrowserTrainWebgpu(steps = 6): Promise<Record<string, unknown>> {
  return benchBrowserTrain(steps, { webgpu: true });
}

export async function benchBrowserTrain(
  steps = 8,
  o: { webgpu?: boolean } = {},
): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-browser-train-'));
  const threads = cpus().length;
  const model = o.webgpu
    ? {
        widthMult: 0.0625,
        size: 32,
        backend: 'webgpu' as const,
        name: "3d_unet_small x1/16 T=16 32x32 (the browser tests' model, WebGPU-form graphs)",
      }
    : {
        widthMult: 0.25,
        size: 112,
        backend: 'cpu' as const,
        name: '3d_unet_small x0.25 T=16 112x112 (the demo model)',
      };
  // The page's runs, one after the other on the same page: 'auto' is wasm here (no hardware adapter).
  const backends = o.webgpu ? ['webgpu', 'wasm'] : ['auto'];
  try {
    console.error(`bench-browser-train: 3 synthetic videos, ${model.name}`);
    const data = join(dir, 'data');
    const videos = await generateDataset({
      out: data,
      videos: 3,
      seed: 7,
      framesMin: 40,
      framesMax: 48,
      progress: false,
    });
    const fileList = join(dir, 'FileList.csv');
    writeFileSync(
      fileList,
      [
        FILE_LIST_COLUMNS.join(','),
        ...videos.map((v) =>
          fileListLine({
            fileName: v.name,
            ef: v.ef,
            esv: v.esv,
            edv: v.edv,
            frameHeight: 112,
            frameWidth: 112,
            fps: v.fps,
            numberOfFrames: v.frames,
            split: 'TRAIN',
          }),
        ),
      ].join('\n') + '\n',
    );
    const set = await buildArtifactSet({
      encoder: '3d_unet_small',
      widthMult: model.widthMult,
      size: model.size,
      backend: model.backend,
      frames: 16,
      period: 1,
      out: join(dir, 'set'),
    });
    const server = await startServer({ dataPath: data, modelFile: set.files.model, port: 0 });
    const chromium = await launchChromium(o.webgpu ? { webgpu: 'swiftshader' } : {});
    const pages: PageResult[] = [];
    let version = 'unknown';
    try {
      version = chromium.context.browser()?.version() ?? version;
      const p = await chromium.context.newPage();
      const opened = (name: string, traced: boolean) =>
        p.waitForFunction(
          ([n, traced]) => {
            const e = document.querySelector('lv-segmenter') as unknown as {
              result?: unknown;
              videoName: string;
              teach: { current?: { name: string; model?: unknown } };
              shadowRoot: ShadowRoot;
            };
            const done = e.result && e.videoName === `${n}.avi` && (!traced || e.teach.current?.model);
            return done || e.shadowRoot.querySelector('.message.error');
          },
          [name, traced] as const,
          { timeout: 600_000 },
        );
      await p.goto(`${server.url}?video=Videos/${videos[0].name}.avi`);
      await opened(videos[0].name, false);
      await p.setInputFiles('#tracings-file', [join(data, 'VolumeTracings.csv'), fileList]);
      for (const v of [...videos.slice(1), videos[0]]) {
        await p.selectOption('#video-list', `Videos/${v.name}.avi`);
        await opened(v.name, true);
      }
      for (const backend of backends) {
        console.error(`bench-browser-train: ${steps} steps in the page (${backend})`);
        pages.push(
          await p.evaluate(
            async ([steps, backend]) => {
              const e = document.querySelector('lv-segmenter') as unknown as {
                teach: {
                  files?: unknown;
                  fineTune(o: object): Promise<PageResult & { firstBatch: Record<string, ArrayBufferView> }>;
                };
              };
              while (!e.teach.files) await new Promise((r) => setTimeout(r, 100));
              const r = await e.teach.fineTune({
                steps,
                batchSize: 2,
                lr: 1e-3,
                keepFirstBatch: true,
                backend,
              });
              const { bytesToBase64: b64 } = globalThis as unknown as PageHelpers;
              const f = r.firstBatch;
              return { ...r, firstBatch: undefined, batch: [f.frames, f.trace_mask, f.trace_index].map(b64) };
            },
            [steps, backend] as const,
          ),
        );
      }
    } finally {
      await chromium.close();
      await server.close();
    }
    console.error('bench-browser-train: the same batch through onnxruntime-node');
    const page = pages[0];
    const runner = await PhaseRunner.open(set, 'weak', { threads });
    const state = readCheckpoint(set.files.checkpoint, set.manifest);
    const batch = weakBatchFromPage(page.batch);
    const nodeSeconds: number[] = [];
    let nodeLoss = NaN;
    for (let k = 0; k < steps; k++) {
      const t = performance.now();
      const r = await runner.step(state, batch, 1e-3);
      nodeSeconds.push((performance.now() - t) / 1000);
      if (k === 0) nodeLoss = r.loss;
    }
    await runner.release();
    // The first steps grow ORT's arenas on both sides: the steady state is the median after two.
    const steady = (a: number[]) => median(a.slice(2));
    const pageS = steady(page.stepSeconds);
    const nodeS = steady(nodeSeconds);
    const wasm = o.webgpu ? pages[1] : undefined;
    return {
      model: model.name,
      batch: BATCH,
      threads,
      steps,
      loadAverage: loadavg()[0],
      page: {
        medianStepS: pageS,
        stepSeconds: page.stepSeconds,
        // wall time per step after the first two, building the augmented batches included
        withBatchBuildingS: (page.elapsed[steps - 1] - page.elapsed[1]) / (steps - 2),
        backend: page.backend,
        chromium: version,
      },
      node: { medianStepS: nodeS, stepSeconds: nodeSeconds },
      ratio: pageS / nodeS,
      ...(wasm
        ? {
            pageWasm: {
              medianStepS: steady(wasm.stepSeconds),
              stepSeconds: wasm.stepSeconds,
              backend: wasm.backend,
            },
            webgpuOverWasm: pageS / steady(wasm.stepSeconds),
            adapter: 'SwiftShader (software: the CPU emulates the GPU; says nothing about a real GPU)',
          }
        : {}),
      firstStepLoss: { page: page.losses[0], node: nodeLoss, absDiff: Math.abs(page.losses[0] - nodeLoss) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  (process.argv.includes('--webgpu') ? benchBrowserTrainWebgpu() : benchBrowserTrain()).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e: unknown) => {
      console.error(`bench-browser-train: ${e instanceof Error ? e.stack : String(e)}`);
      process.exit(1);
    },
  );
}
