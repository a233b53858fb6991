// Where the weights live between training steps. On the CPU provider a TrainingState's arrays are
// the graphs' inputs and outputs themselves (no copies). On a GPU provider (WebGPU) the parameters,
// BatchNorm statistics and optimizer state stay in device memory from step to step: each run's
// outputs are left on the device ('gpu-buffer' tensors) and fed to the next run as they are, so a
// step moves only the batch in and the loss and metrics out. The state's arrays are brought back
// (`sync`) only when something reads them: a checkpoint, the end of training.
import type { Manifest, TrainingState } from '../artifacts/index.js';
import { GraphBuilder } from '../onnx/builder.js';
import { add, mul } from '../onnx/ops/index.js';
import { createSession, onDevice, tensor, type Feeds, type ort, type Provider } from '../onnx/runtime.js';

interface Named {
  name: string;
  shape: number[];
}

/** One Identity per tensor: run with device outputs it uploads, with host outputs it downloads. */
function copyGraph(tensors: Named[]) {
  const b = new GraphBuilder();
  for (const t of tensors) b.output(b.input(t.name, 'float32', t.shape), `${t.name}.copy`); // an Identity
  return b.toGraph('copy');
}

/** sum = a * wa + b * wb per tensor (gradients of micro-batches, on the device). */
function accumulateGraph(tensors: Named[]) {
  const b = new GraphBuilder();
  const wa = b.input('wa', 'float32', []);
  const wb = b.input('wb', 'float32', []);
  for (const t of tensors) {
    const x = b.input(`a.${t.name}`, 'float32', t.shape);
    const y = b.input(`b.${t.name}`, 'float32', t.shape);
    b.output(add(mul(x, wa), mul(y, wb)), `${t.name}.sum`);
  }
  return b.toGraph('accumulate');
}

const scalar = (v: number) => tensor('float32', Float32Array.of(v), []);

export class ResidentState {
  /** per TrainingState: every tensor by name (params, buffers, `<param>.<state>`), where the provider keeps it */
  private readonly held = new Map<TrainingState, Map<string, ort.Tensor>>();
  /** states whose arrays are older than their device copies */
  private readonly stale = new Set<TrainingState>();
  private sessions: Partial<Record<'upload' | 'download' | 'accumulate', Promise<ort.InferenceSession>>> = {};
  /** bytes copied between host and device by the last step (GPU providers) */
  traffic = { toDevice: 0, toHost: 0 };

  constructor(
    readonly provider: Provider,
    private readonly manifest: Manifest,
    private readonly stateSuffixes: readonly string[],
    private readonly threads?: number,
  ) {}

  get onGpu(): boolean {
    return this.provider === 'webgpu';
  }

  private get trainable(): Named[] {
    return this.manifest.params.filter((p) => p.kind === 'param');
  }

  /** Every tensor a state holds: parameters, buffers and the optimizer state of the trainable ones. */
  private all(): Named[] {
    return [
      ...this.manifest.params,
      ...this.trainable.flatMap((p) =>
        this.stateSuffixes.map((s) => ({ name: `${p.name}.${s}`, shape: p.shape })),
      ),
    ];
  }

  private session(kind: 'upload' | 'download' | 'accumulate'): Promise<ort.InferenceSession> {
    const all = this.all();
    this.sessions[kind] ??= createSession(
      kind === 'accumulate' ? accumulateGraph(this.trainable) : copyGraph(all),
      {
        ep: this.provider,
        threads: this.threads,
        // Identity nodes must run, not be folded into "output = input": that is the copy.
        optimization: kind === 'accumulate' ? 'all' : 'disabled',
        deviceOutputs:
          kind === 'upload'
            ? all.map((t) => `${t.name}.copy`)
            : kind === 'accumulate'
              ? this.trainable.map((t) => `${t.name}.sum`)
              : [],
      },
    );
    return this.sessions[kind]!;
  }

  /** The state's tensors as the provider holds them (uploaded on first use on a GPU). */
  async tensors(state: TrainingState): Promise<Map<string, ort.Tensor>> {
    const have = this.held.get(state);
    if (have) return have;
    const host = new Map<string, ort.Tensor>();
    for (const t of this.all()) {
      const values = state.params.get(t.name) ?? state.optimizer.get(t.name) ?? this.zeroState(state, t);
      host.set(t.name, tensor('float32', values, t.shape));
    }
    if (!this.onGpu) {
      this.held.set(state, host);
      return host;
    }
    const out = await (await this.session('upload')).run(Object.fromEntries(host));
    const device = new Map([...host.keys()].map((k) => [k, out[`${k}.copy`]]));
    this.held.set(state, device);
    return device;
  }

  private zeroState(state: TrainingState, t: Named): Float32Array {
    const zeros = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    state.optimizer.set(t.name, zeros);
    return zeros;
  }

  /** Replaces tensors of a state after a run; on the CPU the state's arrays follow at once. */
  replace(state: TrainingState, next: Map<string, ort.Tensor>): void {
    const held = this.held.get(state);
    if (!held) throw new Error('replace() before tensors()');
    for (const [name, t] of next) {
      const old = held.get(name);
      if (old && old !== t && onDevice(old)) old.dispose();
      held.set(name, t);
      if (this.onGpu) continue;
      const data = t.data as Float32Array;
      if (state.params.has(name)) state.params.set(name, data);
      else state.optimizer.set(name, data);
    }
    if (this.onGpu) this.stale.add(state);
  }

  /** a * wa + b * wb for every trainable tensor (summing micro-batch gradients). */
  async accumulate(a: Feeds, wa: number, b: Feeds, wb: number): Promise<Feeds> {
    const feeds: Feeds = { wa: scalar(wa), wb: scalar(wb) };
    for (const t of this.trainable) {
      feeds[`a.${t.name}`] = a[t.name];
      feeds[`b.${t.name}`] = b[t.name];
    }
    const out = await (await this.session('accumulate')).run(feeds);
    return Object.fromEntries(this.trainable.map((t) => [t.name, out[`${t.name}.sum`]]));
  }

  /** Brings a state's arrays up to date with its device copies (before a checkpoint is written). */
  async sync(state: TrainingState): Promise<void> {
    if (!this.stale.has(state)) return;
    const held = this.held.get(state)!;
    const out = await (await this.session('download')).run(Object.fromEntries(held));
    for (const name of held.keys()) {
      const data = out[`${name}.copy`].data as Float32Array;
      if (state.params.has(name)) state.params.set(name, data);
      else state.optimizer.set(name, data);
    }
    this.stale.delete(state);
  }

  /** Frees a state's device copies (its arrays are synced first). */
  async forget(state: TrainingState): Promise<void> {
    await this.sync(state);
    for (const t of this.held.get(state)?.values() ?? []) if (onDevice(t)) t.dispose();
    this.held.delete(state);
  }

  async release(): Promise<void> {
    for (const state of [...this.held.keys()]) await this.forget(state);
    const sessions = await Promise.all(Object.values(this.sessions));
    await Promise.all(sessions.map((s) => s.release()));
    this.sessions = {};
  }
}
