import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { AnyTypedArray, DType } from './dtype.js';
import type { Graph } from './ir.js';
import { encodeGraph } from './serialize.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'auto';

export const CUDA_MISSING_MESSAGE =
  'the CUDA execution provider is not available in this onnxruntime-node install. ' +
  'Reinstall it with the CUDA 12 binaries: `npm install --onnxruntime-node-install=cuda12` ' +
  '(needs CUDA 12 and cuDNN 9 on the machine), or run with --ep cpu.';

export interface SessionOptions {
  ep?: ExecutionProvider;
  threads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * onnxruntime-node lists 'cuda' on every Linux x64 machine, but the provider library is only there
 * after an install with --onnxruntime-node-install=cuda12: look for it next to the binding.
 */
export function cudaAvailable(): boolean {
  const backends = (ort.listSupportedBackends?.() ?? []) as { name: string }[];
  if (!backends.some((b) => b.name === 'cuda')) return false;
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = join(pkg, 'bin');
  if (!existsSync(bin)) return false;
  for (const napi of readdirSync(bin)) {
    if (existsSync(join(bin, napi, process.platform, process.arch, 'libonnxruntime_providers_cuda.so')))
      return true;
  }
  return false;
}

/** Resolves --ep: 'cuda' fails with instructions where the provider is missing; 'auto' falls back to CPU. */
export function resolveProvider(ep: ExecutionProvider = 'cpu'): 'cpu' | 'cuda' {
  if (ep === 'cpu') return 'cpu';
  const ok = cudaAvailable();
  if (ep === 'cuda' && !ok) throw new Error(CUDA_MISSING_MESSAGE);
  return ok ? 'cuda' : 'cpu';
}

export async function createSession(
  model: Graph | Uint8Array | string,
  opts: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const provider = resolveProvider(opts.ep);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: opts.optimization ?? 'all',
    intraOpNumThreads: opts.threads ?? 0,
    interOpNumThreads: 1,
  };
  const src = typeof model === 'string' || model instanceof Uint8Array ? model : encodeGraph(model);
  try {
    return await (typeof src === 'string'
      ? ort.InferenceSession.create(src, options)
      : ort.InferenceSession.create(src, options));
  } catch (e) {
    // The provider library exists but CUDA/cuDNN themselves could not be loaded.
    if (provider === 'cuda')
      throw new Error(`${(e as Error).message}\n${CUDA_MISSING_MESSAGE}`, { cause: e });
    throw e;
  }
}

export function tensor(dtype: DType, data: AnyTypedArray, dims: readonly number[]): ort.Tensor {
  const t = dtype === 'bool' ? 'bool' : dtype;
  return new ort.Tensor(t as ort.Tensor.Type, data as never, dims);
}

export type Feeds = Record<string, ort.Tensor>;
export { ort };
