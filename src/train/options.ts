import type { ExecutionProvider } from '../onnx/runtime.js';
import type { Phase } from './runner.js';

/** `unilvseg ort-train` settings; defaults are the upstream scripts' (docs/upstream.md#defaults). */
export interface TrainOptions {
  phase: Phase;
  dataPath: string;
  out: string;
  encoder: string;
  frames: number;
  period: number;
  maskRatio: number;
  batchSize: number;
  epochs: number;
  valCheckInterval: number;
  numWorkers: number;
  seed: number;
  /** weak: initial weights (SSL or any checkpoint of this encoder); ssl: resume from it (upstream) */
  checkpoint?: string;
  pctTrain?: number;
  ep: ExecutionProvider;
  threads?: number;
  /** samples per train-graph run; gradients of a batch's micro-batches are summed (0 = whole batch) */
  microBatch: number;
  widthMult: number;
  size: number;
  mean: number[];
  std: number[];
  resume: boolean;
  /** an artifact set built before (`build-graph`) instead of building one into <out>/artifacts */
  artifacts?: string;
  lr?: number;
  /** stop after this many optimizer steps in total (smoke runs, benchmarks) */
  maxSteps?: number;
  /** also save last.safetensors every this many steps (0 = only at validations and epoch ends) */
  saveEvery: number;
  /** validation batches at most (0 = whole split) */
  limitValBatches: number;
  /** score the test split with the best weights after weak training (upstream does) */
  test: boolean;
  /** stop at the first bad video or CSV row (upstream) instead of reporting and skipping it */
  strict?: boolean;
}

export const MEAN = [0.12741163, 0.1279413, 0.12912785];
export const STD = [0.19557191, 0.19562256, 0.1965878];

export function defaultTrainOptions(phase: Phase): Omit<TrainOptions, 'dataPath' | 'out'> {
  return {
    phase,
    encoder: '3d_unet',
    frames: 32,
    period: 1,
    maskRatio: 0.6,
    batchSize: 16,
    epochs: phase === 'ssl' ? 100 : 70,
    valCheckInterval: 0.25,
    numWorkers: 8,
    seed: 42,
    ep: 'cpu',
    microBatch: 0,
    widthMult: 1,
    size: 112,
    mean: MEAN,
    std: STD,
    resume: false,
    saveEvery: 0,
    limitValBatches: 0,
    test: true,
  };
}
