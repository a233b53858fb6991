import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { AnyTypedArray, DType } from './dtype.js';
import type { Backend } from './forms.js';
import type { Graph } from './ir.js';
import { encodeGraph } from './serialize.js';

/** What --ep accepts. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu' | 'auto';
/** A provider a session actually runs on. */
export type Provider = Exclude<ExecutionProvider, 'auto'>;
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda', 'webgpu', 'auto'];

export const CUDA_MISSING_MESSAGE =
  'the CUDA execution provider is not available in this onnxruntime-node install. ' +
  'Reinstall it with the CUDA 12 binaries: `npm install --onnxruntime-node-install=cuda12` ' +
  '(needs CUDA 12 and cuDNN 9 on the machine), or run with --ep webgpu or --ep cpu.';

export const WEBGPU_MISSING_MESSAGE =
  "no WebGPU adapter: ONNX Runtime's WebGPU execution provider (Dawn) needs a GPU driver it can reach " +
  'through Vulkan on Linux (the Vulkan loader, Debian/Ubuntu package libvulkan1, and the vendor ICD; ' +
  'for NVIDIA in containers export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json or wherever ' +
  'nvidia_icd.json lies), Metal on macOS or D3D12 on Windows. `vulkaninfo --summary` shows what Vulkan ' +
  'sees. Run with --ep cpu otherwise.';

export interface SessionOptions {
  ep?: ExecutionProvider;
  threads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Outputs to leave on the device (WebGPU: 'gpu-buffer' tensors, fed back as inputs without a copy);
   * the others come back to the CPU. Ignored on the CPU provider.
   */
  deviceOutputs?: readonly string[];
  /** write an ORT profile (JSON trace) to files starting with this path */
  profilePrefix?: string;
  /**
   * Whether idle intra-op threads spin before they sleep (ORT's session.intra_op.allow_spinning;
   * ORT spins by default). Default: UNILVSEG_ORT_SPIN=0 or 1 where set, else ORT's own.
   */
  spin?: boolean;
  /**
   * ORT's memory pattern (on by default): after a run it plans one block for all intermediate
   * tensors of that input shape and keeps a plan, and a block in the arena, per shape seen.
   * Sessions fed batches of varying size (a video's last group of windows) hold several blocks
   * at once: off, a worker of the full 3d_unet stays under 1 GB instead of growing to 1.7 GB,
   * at the same speed (docs/performance.md#memory-pattern).
   */
  memPattern?: boolean;
}

/** UNILVSEG_ORT_SPIN as a boolean, or undefined where unset; anything but 0 or 1 is an error. */
export function spinFromEnv(env: NodeJS.ProcessEnv = process.env): boolean | undefined {
  const v = env.UNILVSEG_ORT_SPIN;
  if (v === undefined || v === '') return undefined;
  if (v !== '0' && v !== '1') throw new Error(`UNILVSEG_ORT_SPIN must be 0 or 1, got '${v}'`);
  return v === '1';
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

let adapterProbe: Promise<string | null> | null = null;

/**
 * Whether the WebGPU provider finds an adapter: null if it does, else why not. ORT has no adapter
 * query, so a one-node session is opened on it once per process.
 */
export function webgpuUnavailable(): Promise<string | null> {
  adapterProbe ??= (async () => {
    const backends = (ort.listSupportedBackends?.() ?? []) as { name: string }[];
    if (!backends.some((b) => b.name === 'webgpu'))
      return 'this onnxruntime-node build has no WebGPU provider';
    try {
      const s = await ort.InferenceSession.create(encodeGraph(probeGraph()), {
        executionProviders: [{ name: 'webgpu' }],
        logSeverityLevel: 4,
      });
      await s.release();
      return null;
    } catch (e) {
      return (e as Error).message.split('\n')[0];
    }
  })();
  return adapterProbe;
}

function probeGraph(): Graph {
  const io = { name: 'x', dtype: 'float32' as const, shape: [1] };
  return {
    name: 'webgpu-probe',
    inputs: [io],
    outputs: [{ ...io, name: 'y' }],
    nodes: [{ op: 'Neg', name: 'neg', inputs: ['x'], outputs: ['y'], attrs: {} }],
    initializers: new Map(),
    values: new Map([
      ['x', io],
      ['y', { ...io, name: 'y' }],
    ]),
    metadata: {},
  };
}

/**
 * True on a Linux machine with no GPU device node (/dev/nvidia*, /dev/dri/renderD*): a WebGPU
 * adapter found there is a software rasteriser (Mesa's lavapipe, SwiftShader), which works but
 * runs on the CPU far slower than the CPU provider, so `--ep auto` does not pick it. (Mesa installs
 * hardware drivers' manifests too, so the installed drivers do not tell.)
 */
export function softwareAdapterOnly(): boolean {
  if (process.platform !== 'linux') return false;
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  const nvidia = list('/dev').some((f) => /^nvidia\d+$/.test(f));
  const render = list('/dev/dri').some((f) => f.startsWith('renderD'));
  return !nvidia && !render;
}

export interface ResolvedProvider {
  provider: Provider;
  /** one line for logs: which provider and, for --ep auto, why */
  reason: string;
}

/**
 * Resolves --ep. 'cuda' and 'webgpu' fail with instructions where the provider cannot run; 'auto'
 * takes CUDA if installed, else WebGPU if a hardware adapter answers, else the CPU, and says why.
 */
export async function resolveProvider(ep: ExecutionProvider = 'cpu'): Promise<ResolvedProvider> {
  if (ep === 'cpu') return { provider: 'cpu', reason: 'cpu' };
  if (ep === 'cuda') {
    if (!cudaAvailable()) throw new Error(CUDA_MISSING_MESSAGE);
    return { provider: 'cuda', reason: 'cuda' };
  }
  if (ep === 'webgpu') {
    const why = await webgpuUnavailable();
    if (why) throw new Error(`${WEBGPU_MISSING_MESSAGE} (ONNX Runtime said: ${why})`);
    return { provider: 'webgpu', reason: 'webgpu' };
  }
  if (cudaAvailable()) return { provider: 'cuda', reason: 'cuda (--ep auto: CUDA provider found)' };
  const why = await webgpuUnavailable();
  if (!why && !softwareAdapterOnly())
    return { provider: 'webgpu', reason: 'webgpu (--ep auto: no CUDA provider; a WebGPU adapter answered)' };
  const webgpu = why
    ? `no WebGPU adapter (${why})`
    : 'no GPU device, so the WebGPU adapter is a software rasteriser';
  return { provider: 'cpu', reason: `cpu (--ep auto: no CUDA provider installed, ${webgpu})` };
}

/** The graph forms that suit a provider (CUDA runs the CPU's forms: every op has a kernel there). */
export function backendOf(provider: Provider): Backend {
  return provider === 'webgpu' ? 'webgpu' : 'cpu';
}

export async function createSession(
  model: Graph | Uint8Array | string,
  opts: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const { provider } = await resolveProvider(opts.ep);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider === 'webgpu' ? { name: 'webgpu' } : provider],
    graphOptimizationLevel: opts.optimization ?? 'all',
    intraOpNumThreads: opts.threads ?? 0,
    interOpNumThreads: 1,
  };
  if (opts.memPattern !== undefined) options.enableMemPattern = opts.memPattern;
  // Spinning threads burn the CPU they wait on: on a shared or oversubscribed host (a cluster
  // node, a CPU quota) they slow everyone, this process included (docs/performance.md#spinning-threads).
  const spin = opts.spin ?? spinFromEnv();
  if (spin !== undefined) options.extra = { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } };
  if (provider === 'webgpu') {
    // ORT warns about shape ops it keeps on the CPU on purpose; errors still show.
    options.logSeverityLevel = 3;
    if (opts.deviceOutputs?.length)
      options.preferredOutputLocation = Object.fromEntries(opts.deviceOutputs.map((n) => [n, 'gpu-buffer']));
  }
  if (opts.profilePrefix)
    Object.assign(options, { enableProfiling: true, profileFilePrefix: opts.profilePrefix });
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

/** True for a tensor that lives in device memory (a WebGPU buffer), not in a typed array. */
export function onDevice(t: ort.Tensor): boolean {
  return t.location === 'gpu-buffer';
}

export type Feeds = Record<string, ort.Tensor>;
export { ort };
