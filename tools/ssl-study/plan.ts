// The grid of the SSL transfer study: which pre-training runs and which weak-supervision runs,
// in the order they are worth having if the study is stopped part-way (docs/transfer.md).
import { UPSTREAM_TRANSFER, type TransferOptions } from '../../src/train/transfer.js';

/** How a weak run starts: from the set's random initial values, or from an SSL run's best weights. */
export interface InitConfig {
  /** key part, e.g. `random`, `ssl10-encoder` */
  name: string;
  /** legend text */
  label: string;
  /** SSL epochs of the checkpoint (undefined: random initialisation) */
  sslEpochs?: number;
  transfer: TransferOptions;
}

export interface WeakCell {
  key: string;
  fraction: number;
  init: InitConfig;
  seed: number;
}

export interface StudyConfig {
  fractions: number[];
  sslEpochs: number[];
  seeds: number[];
  /** extra transfer choices, run at `variantFractions` only */
  variants: string[];
  variantFractions: number[];
}

/** The extra transfer choices the study can add, each on the longest SSL run. */
export const VARIANTS: Record<
  string,
  Omit<TransferOptions, 'pretrainedType'> & { base: 'full' | 'encoder'; label: string }
> = {
  'full-newhead': { ...UPSTREAM_TRANSFER, base: 'full', reinitHead: true, label: 'all but the output block' },
  'full-lr0.1': {
    ...UPSTREAM_TRANSFER,
    base: 'full',
    transferLrScale: 0.1,
    label: 'all, transferred lr x0.1',
  },
  'encoder-lr0.1': { ...UPSTREAM_TRANSFER, base: 'encoder', transferLrScale: 0.1, label: 'encoder, lr x0.1' },
  'encoder-warmup': {
    ...UPSTREAM_TRANSFER,
    base: 'encoder',
    headWarmupSteps: 15,
    label: 'encoder, 15-step warm-up',
  },
  'full-newhead-warmup': {
    ...UPSTREAM_TRANSFER,
    base: 'full',
    reinitHead: true,
    headWarmupSteps: 15,
    label: 'all but the head, warm-up',
  },
};

export const RANDOM: InitConfig = {
  name: 'random',
  label: 'random initialisation',
  transfer: UPSTREAM_TRANSFER,
};

export function sslInit(epochs: number, kind: 'full' | 'encoder'): InitConfig {
  return {
    name: `ssl${epochs}-${kind}`,
    label: `SSL ${epochs} ep, ${kind === 'full' ? 'every weight (pl_full)' : 'encoder only'}`,
    sslEpochs: epochs,
    transfer: { ...UPSTREAM_TRANSFER, pretrainedType: kind === 'full' ? 'pl_full' : 'encoder' },
  };
}

export function variantInit(name: string, epochs: number): InitConfig {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown variant ${name} (known: ${Object.keys(VARIANTS).join(', ')})`);
  const { base, label, ...rest } = v;
  return {
    name: `ssl${epochs}-${name}`,
    label: `SSL ${epochs} ep, ${label}`,
    sslEpochs: epochs,
    transfer: { ...rest, pretrainedType: base === 'full' ? 'pl_full' : 'encoder' },
  };
}

export const cellKey = (fraction: number, init: InitConfig, seed: number) =>
  `f${Math.round(fraction * 100)}-${init.name}-s${seed}`;

/**
 * Every weak run, most useful first: fractions in the given order (10 % first by default, the
 * acceptance fraction), within a fraction seed by seed so that means over seeds fill in early,
 * the main initialisations before the variants.
 */
export function planCells(c: StudyConfig): WeakCell[] {
  const longest = Math.max(...c.sslEpochs);
  const cells: WeakCell[] = [];
  for (const fraction of c.fractions) {
    const inits = [RANDOM, ...c.sslEpochs.flatMap((e) => [sslInit(e, 'full'), sslInit(e, 'encoder')])];
    if (c.variantFractions.includes(fraction)) inits.push(...c.variants.map((v) => variantInit(v, longest)));
    for (const seed of c.seeds)
      for (const init of inits) cells.push({ key: cellKey(fraction, init, seed), fraction, init, seed });
  }
  return cells;
}

/**
 * Epochs and validation cadence for a fixed budget of about `steps` optimizer steps with about
 * `validations` validations, whatever the number of batches per epoch: short epochs (few labelled
 * videos) validate every n-th epoch, long ones k times per epoch.
 */
export function schedule(batchesPerEpoch: number, steps: number, validations: number) {
  const epochs = Math.max(1, Math.round(steps / batchesPerEpoch));
  const every = steps / validations;
  if (batchesPerEpoch <= every) {
    const n = Math.max(1, Math.round(every / batchesPerEpoch));
    return { epochs: Math.ceil(epochs / n) * n, checkValEveryNEpoch: n, valCheckInterval: 1 };
  }
  const k = Math.max(1, Math.round(batchesPerEpoch / every));
  return { epochs, checkValEveryNEpoch: 1, valCheckInterval: 1 / k };
}
