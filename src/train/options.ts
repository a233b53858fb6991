import type { ExecutionProvider } from '../onnx/runtime.js';
import { DEFAULT_MASK_RATIO, DEFAULT_SEED, FRAME_SIZE, type Phase } from '../defaults.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { UPSTREAM_TRANSFER, type TransferOptions } from './transfer.js';

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
  /** validate only in every n-th epoch (Lightning's check_val_every_n_epoch; 1 = every epoch) */
  checkValEveryNEpoch: number;
  numWorkers: number;
  seed: number;
  /** weak: initial weights (SSL or any checkpoint of this encoder); ssl: resume from it (upstream) */
  checkpoint?: string;
  /** weak: which weights --checkpoint provides and how fast they may move (src/train/transfer.ts) */
  transfer: TransferOptions;
  pctTrain?: number;
  /** ssl: the validation videos (a root's VAL split, a folder or a list) when --data_path is a pool without splits */
  valData?: string;
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
  /** weak: epochs at which the learning rate drops x0.1 (default the set's, upstream's 45 and 60) */
  milestones?: number[];
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

export function defaultTrainOptions(phase: Phase): Omit<TrainOptions, 'dataPath' | 'out'> {
  return {
    phase,
    encoder: '3d_unet',
    frames: 32,
    period: 1,
    maskRatio: DEFAULT_MASK_RATIO,
    batchSize: 16,
    epochs: phase === 'ssl' ? 100 : 70,
    valCheckInterval: 0.25,
    checkValEveryNEpoch: 1,
    numWorkers: 8,
    seed: DEFAULT_SEED,
    transfer: UPSTREAM_TRANSFER,
    ep: 'cpu',
    microBatch: 0,
    widthMult: 1,
    size: FRAME_SIZE,
    mean: ECHONET_NORMALISATION.mean,
    std: ECHONET_NORMALISATION.std,
    resume: false,
    saveEvery: 0,
    limitValBatches: 0,
    test: true,
  };
}
