// ONNX Runtime's profile (session option enableProfiling): a JSON trace whose 'Node' events name
// each node's op and the execution provider that ran it. This is how we prove that a graph ran on
// the GPU and see where a step's time goes.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface NodeRun {
  node: string;
  op: string;
  provider: string;
  /** kernel time, microseconds */
  us: number;
  /** bytes of the node's outputs */
  outputBytes: number;
  /** element count of its largest output */
  outputElements: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: {
    op_name?: string;
    provider?: string;
    output_size?: string | number;
    output_type_shape?: Record<string, number[]>[];
  };
}

/** The newest profile written for a session created with profileFilePrefix = prefix. */
export function profileFile(prefix: string): string {
  const dir = dirname(prefix);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(basename(prefix)) && f.endsWith('.json'))
    .sort();
  if (!files.length) throw new Error(`no ONNX Runtime profile starting with ${prefix}`);
  return join(dir, files[files.length - 1]);
}

/**
 * Every node execution of a profile (all runs the session made while profiling), or with
 * `lastRun` those of its last run only: a session's first run also pays for faulting in the memory
 * its arena grows into, several times the kernels' own time for large activations.
 */
export function readProfile(file: string, { lastRun = false } = {}): NodeRun[] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts ?? 0);
  const from = lastRun && runs.length ? Math.max(...runs) : -Infinity;
  return events
    .filter((e) => e.cat === 'Node' && e.args?.provider && e.name?.endsWith('_kernel_time'))
    .filter((e) => (e.ts ?? 0) >= from)
    .map((e) => ({
      node: e.name!.slice(0, -'_kernel_time'.length),
      op: e.args!.op_name ?? '?',
      provider: e.args!.provider!,
      us: e.dur ?? 0,
      outputBytes: Number(e.args!.output_size ?? 0),
      outputElements: Math.max(
        0,
        ...(e.args!.output_type_shape ?? []).flatMap((o) =>
          Object.values(o).map((dims) => dims.reduce((a, b) => a * b, 1)),
        ),
      ),
    }));
}

/**
 * ORT keeps small shape and index arithmetic on the CPU on purpose whatever the provider (int64
 * shapes, the [N, T] one-hot of the traced frame, scalar element counts, per-channel constants):
 * nodes whose outputs hold at most `hostElements` values (callers pass one frame's H*W, which no
 * feature map is as small as). Copying such a result costs microseconds; anything larger off the
 * GPU is a fallback that moves real tensors.
 */
export const DEFAULT_HOST_ELEMENTS = 1024;

export interface ProfileSummary {
  msByProvider: Record<string, number>;
  /** op:provider with its total kernel milliseconds, largest first */
  topOps: [string, number][];
  /** nodes that did not run on `provider` and output more than `hostElements` values */
  fellBack: NodeRun[];
  /** tiny nodes ORT kept on the CPU (index and shape arithmetic) */
  keptOnHost: NodeRun[];
}

export function summarizeProfile(
  runs: NodeRun[],
  provider: string,
  { hostElements = DEFAULT_HOST_ELEMENTS, top = 12 } = {},
): ProfileSummary {
  const byProvider: Record<string, number> = {};
  const byOp = new Map<string, number>();
  for (const r of runs) {
    byProvider[r.provider] = (byProvider[r.provider] ?? 0) + r.us / 1000;
    const key = `${r.op}:${r.provider}`;
    byOp.set(key, (byOp.get(key) ?? 0) + r.us / 1000);
  }
  const seen = new Set<string>();
  const offDevice = runs.filter((r) => {
    if (r.provider === provider || seen.has(r.node)) return false;
    seen.add(r.node);
    return true;
  });
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    msByProvider: Object.fromEntries(Object.entries(byProvider).map(([k, v]) => [k, round(v)])),
    topOps: [...byOp.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, round(v)]),
    fellBack: offDevice.filter((r) => r.outputElements > hostElements),
    keptOnHost: offDevice.filter((r) => r.outputElements <= hostElements),
  };
}
