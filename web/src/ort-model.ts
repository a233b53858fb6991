// A segmentation model.onnx in the browser with onnxruntime-web: WebGPU when the browser offers an
// adapter, else WebAssembly (multi-threaded when the page is cross-origin isolated; ORT's wasm
// builds all use 128-bit SIMD). The wasm files come from our own origin, never a CDN.
// The WebGPU build: ONNX Runtime's native WebGPU provider compiled to wasm (runs the 3-D U-Net,
// whose 3-D pooling the older JS provider of the default build rejects), and its CPU kernels ran
// the wasm backend faster than the default build's in our measurements.
import * as ort from 'onnxruntime-web/webgpu';

/** The onnxruntime-web instance the component runs, for pages (and the bench) that run other graphs with the same wasm files. */
export { ort };
import { readModelHeader, type ModelHeader } from '../../src/infer/model-header.js';
import type { ClipModel } from '../../src/infer/segment-core.js';

export type BackendChoice = 'auto' | 'wasm' | 'webgpu';
export type Backend = 'wasm' | 'webgpu';

export interface BrowserModel extends ClipModel, ModelHeader {
  backend: Backend;
  /** The backend in words, e.g. "wasm, 2 threads, SIMD (cross-origin isolated)". */
  backendDetail: string;
  /** As segment-video's: encoder, T, p, size, where the weights come from, what runs them. */
  describe: string;
  release(): Promise<void>;
}

/** Where ort-wasm-simd-threaded.asyncify.{mjs,wasm} are: the `ort/` folder next to this bundle. */
export const DEFAULT_ORT_BASE = new URL('./ort/', import.meta.url).href;

/** WebAssembly threads this page may use (the page and its workers). */
export function wasmThreads(): number {
  // Threads need SharedArrayBuffer, which browsers give only to cross-origin isolated pages.
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16));
}

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

interface GpuNavigator {
  gpu?: { requestAdapter(o?: { powerPreference?: string }): Promise<GpuAdapterLike | null> };
}

/**
 * 'hardware', 'software' (a CPU emulation such as SwiftShader or lavapipe: far slower than wasm
 * for this model) or 'none'.
 */
export async function webgpuAdapter(): Promise<'hardware' | 'software' | 'none'> {
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return 'none';
  try {
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) return 'none';
    const i = a.info ?? {};
    const soft =
      a.isFallbackAdapter ||
      i.isFallbackAdapter ||
      /swiftshader|llvmpipe|lavapipe/i.test(`${i.vendor} ${i.architecture} ${i.description}`);
    return soft ? 'software' : 'hardware';
  } catch {
    return 'none';
  }
}

function wasmDetail(threads: number): string {
  return globalThis.crossOriginIsolated
    ? `wasm, ${threads} thread${threads > 1 ? 's' : ''}, SIMD (cross-origin isolated)`
    : 'wasm, 1 thread, SIMD (page not cross-origin isolated, so no threads)';
}

/**
 * Load `bytes` (named `name` in messages) on the chosen backend. 'auto' tries WebGPU where an
 * adapter exists and falls back to wasm, saying why, if the model does not run there.
 */
export async function loadBrowserModel(
  bytes: Uint8Array,
  name: string,
  opts: { backend?: BackendChoice; ortBase?: string; onNote?: (msg: string) => void } = {},
): Promise<BrowserModel> {
  const header = readModelHeader(name, bytes);
  ort.env.wasm.wasmPaths = opts.ortBase ?? DEFAULT_ORT_BASE;
  const threads = wasmThreads();
  ort.env.wasm.numThreads = threads;
  const choice = opts.backend ?? 'auto';
  let backend: Backend = 'wasm';
  let detail = wasmDetail(threads);
  let session: ort.InferenceSession | undefined;
  let fallback: string | undefined;
  if (choice !== 'wasm') {
    const adapter = await webgpuAdapter();
    if (adapter === 'software' && choice === 'auto')
      opts.onNote?.('the only WebGPU adapter is a software one (slower than wasm here); using wasm');
    if (adapter === 'hardware' || (adapter === 'software' && choice === 'webgpu')) {
      let gpu: ort.InferenceSession | undefined;
      try {
        gpu = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
        // A session can be created and still fail at its first run (a kernel the provider lacks,
        // e.g. 3-D pooling in NHWC): one black clip proves the model runs here before it is used.
        const { frames: T, size } = header;
        const probe = new ort.Tensor('uint8', new Uint8Array(T * size * size * 3), [1, T, size, size, 3]);
        await (await gpu.run({ frames: probe })).logits.getData();
        session = gpu;
        backend = 'webgpu';
        detail = adapter === 'software' ? 'webgpu (software adapter)' : 'webgpu';
      } catch (e) {
        await gpu?.release();
        if (choice === 'webgpu')
          throw new Error(`${name} does not run on WebGPU: ${(e as Error).message}`, { cause: e });
        const why = `WebGPU adapter found but ${name} failed there (${(e as Error).message}); using wasm`;
        opts.onNote?.(why);
        fallback = why;
      }
    } else if (choice === 'webgpu') {
      throw new Error('this browser offers no WebGPU adapter; choose the wasm backend');
    }
  }
  session ??= await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  if (fallback) detail += ' (WebGPU failed: see the console)';
  const { frames: T, size } = header;
  const s = session;
  return {
    ...header,
    backend,
    backendDetail: detail,
    describe: `${header.encoder} T=${T} p=${header.period} ${size}x${size} from ${name} on onnxruntime-web ${detail}`,
    async run(clips, n) {
      const expected = n * T * size * size * 3;
      if (clips.length !== expected)
        throw new Error(`model input holds ${clips.length} bytes, expected ${n}x${T}x${size}x${size}x3`);
      // One macrotask between windows, so the page repaints its progress bar.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const out = await s.run({ frames: new ort.Tensor('uint8', clips, [n, T, size, size, 3]) });
      const logits = out.logits;
      // WebGPU outputs may live on the GPU; getData() downloads them (a no-op copy on wasm).
      const data = (await logits.getData()) as Float32Array;
      logits.dispose();
      return data;
    },
    release: () => s.release(),
  };
}
