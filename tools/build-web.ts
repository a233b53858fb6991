// Builds the browser viewer into web/dist (run by `npm run build` and `npm install`): esbuild bundles
// web/src (and the src/infer modules it shares with segment-video) for the browser, and
// onnxruntime-web's WebAssembly runtime and the DICOM codecs' (codecs/) are copied next to it so
// the page never needs a CDN.
// web/dist is a static site: any server sending the COOP/COEP headers can host it.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_WASM_FILES } from '../src/data/dicom/codecs/wasm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB = join(ROOT, 'web');
const OUT = join(WEB, 'dist');

/** The runtime onnxruntime-web/webgpu loads (wasm CPU kernels and the WebGPU provider, one binary). */
const ORT_RUNTIME_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

export async function buildWeb(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'ort'), { recursive: true });
  await build({
    entryPoints: ['viewer.ts', 'lv-segmenter.ts', 'decode-worker.ts', 'train-worker.ts'].map((f) =>
      join(WEB, 'src', f),
    ),
    outdir: OUT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // onnxruntime-web's build that loads its wasm runtime from env.wasm.wasmPaths (our ort/ folder)
    // instead of the variant that inlines the loader.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    // The DICOM codecs' Emscripten loaders require these only when they run under Node.
    external: ['fs', 'path'],
    minify: true,
    sourcemap: true,
    chunkNames: 'chunk-[hash]',
    logLevel: 'warning',
  });
  const ortDist = dirname(
    createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm'),
  );
  for (const f of ORT_RUNTIME_FILES) copyFileSync(join(ortDist, f), join(OUT, 'ort', f));
  mkdirSync(join(OUT, 'codecs'));
  for (const [pkg, file] of Object.entries(BROWSER_WASM_FILES)) {
    const dist = dirname(createRequire(import.meta.url).resolve(`${pkg}/decodewasmjs`));
    copyFileSync(join(dist, file), join(OUT, 'codecs', file));
  }
  for (const f of ['index.html', 'viewer.css']) copyFileSync(join(WEB, f), join(OUT, f));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  buildWeb().then(
    () => process.stderr.write(`build-web: ${OUT} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`),
    (e: unknown) => {
      process.stderr.write(`build-web: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
