// Shared by the benchmark and baseline tools.
import { readFileSync } from 'node:fs';
import { GraphBuilder } from '../src/onnx/builder.js';
import { matmul } from '../src/onnx/ops/index.js';
import { createSession, tensor } from '../src/onnx/runtime.js';
import { encodeGraph } from '../src/onnx/serialize.js';

/** Rounded to 3 decimals, for the JSON the benches print. */
export const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** This process's peak resident memory in KiB: Linux's VmHWM, else Node's maxRSS. */
export function peakResidentKiB(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
}

/** The middle element of the sorted values (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * A fixed uint8 RGB clip [frames, size, size, 3] from a multiplicative hash of the index:
 * ((i * 2654435761) mod 2^32) >> 24. tools/torch-baseline/export_unet3d.py builds the same bytes.
 */
export function syntheticClip(frames: number, size: number): Uint8Array {
  return Uint8Array.from({ length: frames * size * size * 3 }, (_, i) => (i * 2654435761) >>> 24);
}

/** UNet3D forward FLOPs per 1x3x32x112x112 clip (docs/upstream.md#unet3d: 35.82 GMACs). */
export const UNET3D_FORWARD_GFLOP = 71.6;

/** Side of the square float32 MatMul that measures a runtime's GEMM rate (MLAS's best case). */
export const GEMM_N = 2048;

/** The GEMM-rate graph: c = a x b, both [n, n] float32 inputs, as ONNX bytes. */
export function gemmModelBytes(n = GEMM_N): Uint8Array {
  const b = new GraphBuilder();
  b.output(matmul(b.input('a', 'float32', [n, n]), b.input('b', 'float32', [n, n])), 'c');
  return encodeGraph(b.toGraph('gemm'));
}

/** Deterministic values in [0, 1) for the GEMM inputs (any values do; these avoid denormals). */
function gemmInput(n = GEMM_N): Float32Array {
  return Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000);
}

/** GFLOP of one GEMM_N^3 MatMul. */
export const gemmGflop = (n = GEMM_N): number => (2 * n ** 3) / 1e9;

/**
 * onnxruntime-node's float32 GEMM rate (GFLOP/s) on `threads` intra-op threads: the median of
 * `runs` timed MatMuls after one warm-up.
 */
export async function nodeGemmGflops(threads: number, runs = 5, n = GEMM_N): Promise<number> {
  const session = await createSession(gemmModelBytes(n), { threads });
  const m = tensor('float32', gemmInput(n), [n, n]);
  try {
    await session.run({ a: m, b: m });
    const seconds: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await session.run({ a: m, b: m });
      seconds.push((performance.now() - t) / 1000);
    }
    return gemmGflop(n) / median(seconds);
  } finally {
    await session.release();
  }
}

/**
 * The CPU's widest float SIMD that ONNX Runtime's native kernels use ('avx512f', 'avx2', 'neon',
 * ...), read from /proc/cpuinfo: it decides how far WebAssembly's 128-bit SIMD falls behind.
 */
export function cpuSimd(): string {
  try {
    const flags = new Set(
      (/^(?:flags|Features)\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '')
        .trim()
        .split(/\s+/),
    );
    return ['avx512f', 'avx2', 'avx', 'sve', 'asimd', 'neon'].find((f) => flags.has(f)) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface TimedRun {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs each graph once to warm up, then `rounds` times round-robin (so machine load hits every
 * graph alike). Per name: the median and minimum wall milliseconds and the median process CPU
 * milliseconds per run; with one intra-op thread the CPU time measures the work where, on a loaded
 * machine, wall time also measures the wait for a core.
 */
export async function timeInterleaved(
  runs: TimedRun[],
  rounds: number,
): Promise<{
  median_ms: Record<string, number>;
  min_ms: Record<string, number>;
  cpu_ms: Record<string, number>;
}> {
  for (const r of runs) await r.run();
  const wall = new Map(runs.map((r) => [r.name, [] as number[]]));
  const cpu = new Map(runs.map((r) => [r.name, [] as number[]]));
  for (let k = 0; k < rounds; k++)
    for (const r of runs) {
      const [t0, c0] = [performance.now(), process.cpuUsage()];
      await r.run();
      const c = process.cpuUsage(c0);
      wall.get(r.name)!.push(performance.now() - t0);
      cpu.get(r.name)!.push((c.user + c.system) / 1000);
    }
  const round2 = (v: number) => Number(v.toFixed(2));
  const per = (m: Map<string, number[]>, f: (xs: number[]) => number) =>
    Object.fromEntries([...m].map(([name, xs]) => [name, round2(f(xs))]));
  return {
    median_ms: per(wall, median),
    min_ms: per(wall, (xs) => Math.min(...xs)),
    cpu_ms: per(cpu, median),
  };
}
