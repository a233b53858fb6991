// The fine-tuning worker: checks that an artifact set's weak train and optimizer graphs belong to
// the loaded model.onnx, then runs N steps of them (src/train/finetune.ts) off the page's thread,
// on WebAssembly threads or, where the browser offers a hardware WebGPU adapter and the graphs
// pass a first step there, on WebGPU (falling back to wasm, and saying why, when that first step
// fails: docs/browser-training.md#webgpu). The page cancels by terminating the worker, so the weights
// it uses change only when a run finishes. Messages (in): TrainRequest; (out): WorkerMessage.
import * as ort from 'onnxruntime-web/webgpu';
import { bakeWeights } from '../../src/artifacts/bake.js';
import { checkpointFromParams } from '../../src/artifacts/checkpoint-layout.js';
import type { Manifest } from '../../src/artifacts/manifest.js';
import { encodeSafetensors } from '../../src/artifacts/safetensors-codec.js';
import type { Graph } from '../../src/onnx/ir.js';
import { decodeGraph } from '../../src/onnx/serialize.js';
import {
  checkTrainingGraphs,
  fineTuneBatch,
  FineTuner,
  type FineTuneBatch,
  type MakeTensor,
  type TraceSample,
} from '../../src/train/finetune.js';
import { webgpuAdapter, type BackendChoice } from './ort-model.js';

/** How a fine-tuning runs (teach.ts fineTune's options). */
export interface FineTuneOptions {
  steps?: number;
  lr?: number;
  batchSize?: number;
  seed?: number;
  /**
   * where the steps run: 'auto' tries WebGPU where a hardware adapter is offered and falls back to
   * wasm when the first step fails there; 'webgpu' insists (a failure is an error); 'wasm'
   */
  backend?: BackendChoice;
  /** 'auto' tries a software WebGPU adapter (SwiftShader, lavapipe) too: the tests' only adapter */
  softwareWebgpu?: boolean;
  /** keep the first step's batch in the result (tests compare it with onnxruntime-node) */
  keepFirstBatch?: boolean;
  /** keep every step's batch in the result (tests replay the run in onnxruntime-node) */
  keepBatches?: boolean;
}

export interface TrainRequest extends FineTuneOptions {
  type: 'check' | 'train';
  /** where the training files came from, for messages */
  source: string;
  modelName: string;
  model: Uint8Array;
  manifest: Manifest;
  train: Uint8Array;
  optimizer: Uint8Array;
  ortBase: string;
  threads: number;
  /** train only */
  samples?: TraceSample[];
}

export type WorkerMessage =
  | { type: 'checked'; params: number }
  | {
      type: 'backend';
      backend: 'wasm' | 'webgpu';
      detail: string;
      /** why WebGPU was left for wasm: its first step's error */
      fallback?: string;
      /** the WebGPU device's adapter, as ONNX Runtime's WebGPU backend created it */
      adapter?: { vendor: string; architecture: string };
    }
  | {
      type: 'step';
      step: number;
      steps: number;
      loss: number;
      /** since the run started, and of this step the train and optimizer graphs alone */
      seconds: number;
      runSeconds: number;
      /** this step's batch: the first (keepFirstBatch) or every step's (keepBatches) */
      batch?: FineTuneBatch;
    }
  | { type: 'done'; model: Uint8Array; checkpoint: Uint8Array; losses: number[]; seconds: number }
  | { type: 'error'; message: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<TrainRequest>) => void) | null;
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
};

const makeTensor: MakeTensor = (type, data, dims) =>
  new ort.Tensor(type, data as Float32Array, dims as number[]) as unknown as ReturnType<MakeTensor>;

/** The model's graph and its parameters (initializers of the manifest's names, graph layout). */
function checked(r: TrainRequest): { graph: Graph; params: Map<string, Float32Array> } {
  const graph = decodeGraph(r.model);
  const frames = graph.inputs.find((i) => i.name === 'frames')?.shape ?? [];
  const [T, size] = [Number(frames[1]), Number(frames[2])];
  const inputs = (bytes: Uint8Array, file: string) => {
    try {
      return decodeGraph(bytes).inputs;
    } catch (e) {
      throw new Error(`${r.source}: ${file} is not a readable ONNX graph (${(e as Error).message})`, {
        cause: e,
      });
    }
  };
  checkTrainingGraphs(
    r.source,
    r.modelName,
    { initializers: graph.initializers, frames: T, size },
    r.manifest,
    inputs(r.train, 'train_weak.onnx'),
    inputs(r.optimizer, 'optimizer_weak.onnx'),
  );
  const params = new Map<string, Float32Array>();
  for (const p of r.manifest.params) params.set(p.name, graph.initializers.get(p.name)!.data as Float32Array);
  return { graph, params };
}

/** One after the other: onnxruntime-web's WebGPU provider refuses a second session while one is being created. */
async function sessions(r: TrainRequest, ep: 'wasm' | 'webgpu') {
  const o: ort.InferenceSession.SessionOptions = { executionProviders: [ep], graphOptimizationLevel: 'all' };
  const train = await ort.InferenceSession.create(r.train, o);
  try {
    return [train, await ort.InferenceSession.create(r.optimizer, o)] as const;
  } catch (e) {
    await train.release();
    throw e;
  }
}

async function train(r: TrainRequest): Promise<void> {
  const { params } = checked(r);
  const samples = r.samples ?? [];
  const steps = r.steps ?? 1;
  const lr = r.lr ?? 1e-3;
  const batchSize = r.batchSize ?? 2;
  const seed = r.seed ?? 0;
  const batchOf = (step: number) => fineTuneBatch(samples, step, batchSize, seed, r.manifest);
  const t0 = performance.now();
  const losses: number[] = [];
  const report = (tuner: FineTuner, loss: number, batch: FineTuneBatch, runSeconds: number) => {
    losses.push(loss);
    const step = tuner.state.step;
    scope.postMessage({
      type: 'step',
      step,
      steps,
      loss,
      seconds: (performance.now() - t0) / 1000,
      runSeconds,
      ...((step === 1 && r.keepFirstBatch) || r.keepBatches ? { batch } : {}),
    });
  };

  // WebGPU where a hardware adapter is offered (or forced) and the first step runs there; else wasm.
  let tuner: FineTuner | undefined;
  let fallback: string | undefined;
  const adapter = r.backend === 'wasm' ? 'none' : await webgpuAdapter();
  if (adapter === 'hardware' || (adapter === 'software' && (r.backend === 'webgpu' || r.softwareWebgpu))) {
    let made: readonly [ort.InferenceSession, ort.InferenceSession] | undefined;
    try {
      made = await sessions(r, 'webgpu');
      const gpu = new FineTuner(made[0] as never, made[1] as never, makeTensor, r.manifest, params);
      const batch = batchOf(0);
      const began = performance.now();
      const first = await gpu.step(batch, lr);
      const device = (await ort.env.webgpu.device) as {
        adapterInfo: { vendor: string; architecture: string };
      };
      const info = device.adapterInfo;
      tuner = gpu;
      scope.postMessage({
        type: 'backend',
        backend: 'webgpu',
        detail: `webgpu (${adapter} adapter: ${info.vendor} ${info.architecture})`,
        adapter: { vendor: info.vendor, architecture: info.architecture },
      });
      report(gpu, first.loss, batch, (performance.now() - began) / 1000);
    } catch (e) {
      await Promise.all((made ?? []).map((s) => s.release()));
      if (r.backend === 'webgpu')
        throw new Error(`the training graphs do not run on WebGPU: ${(e as Error).message}`, { cause: e });
      fallback = (e as Error).message;
      console.warn(`the training graphs failed their first step on WebGPU (${fallback}); using wasm`);
    }
  }
  if (!tuner) {
    const [t, o] = await sessions(r, 'wasm');
    tuner = new FineTuner(t as never, o as never, makeTensor, r.manifest, params);
    let detail = `wasm, ${r.threads} thread${r.threads > 1 ? 's' : ''}`;
    if (fallback) detail += ` (WebGPU failed the first step: ${fallback})`;
    scope.postMessage({ type: 'backend', backend: 'wasm', detail, ...(fallback ? { fallback } : {}) });
  }
  while (tuner.state.step < steps) {
    const batch = batchOf(tuner.state.step);
    const began = performance.now();
    const { loss } = await tuner.step(batch, lr);
    report(tuner, loss, batch, (performance.now() - began) / 1000);
  }
  const version = r.manifest.producer.version;
  const model = bakeWeights(r.model, r.manifest.params, tuner.state.params, version, r.modelName);
  tuner.state.metadata = { finetuned_steps: String(steps), finetuned_lr: String(lr) };
  const checkpoint = encodeSafetensors(checkpointFromParams(r.manifest, tuner.state, version));
  const seconds = (performance.now() - t0) / 1000;
  scope.postMessage({ type: 'done', model, checkpoint, losses, seconds }, [model.buffer, checkpoint.buffer]);
}

scope.onmessage = (e) => {
  const r = e.data;
  ort.env.wasm.wasmPaths = r.ortBase;
  ort.env.wasm.numThreads = r.threads;
  const run =
    r.type === 'check'
      ? Promise.resolve().then(() => {
          const { params } = checked(r);
          scope.postMessage({ type: 'checked', params: params.size });
        })
      : train(r);
  run.catch((err: unknown) =>
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
};
