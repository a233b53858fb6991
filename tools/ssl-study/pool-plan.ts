// The grid of the pool study (docs/transfer.md#the-pool-study): SSL on an unlabelled pool of
// 500 or 2,000 synthetic videos disjoint from the labelled ones, or on the labelled videos' own
// frames, then weak supervision from 8, 16 or 32 traced videos, for two synthetic looks and five
// seeds; ordered so that the most informative cells finish first if the study stops part-way.
import { UPSTREAM_TRANSFER, type TransferOptions } from '../../src/train/transfer.js';
import type { SynthLook } from '../../src/data/synth/params.js';

/** Where an SSL run's videos come from: the first `n` videos of the look's pool, or the labelled ones. */
export type PoolKind = { pool: number } | { own: true };

/** One SSL run: a look, a seed and its videos (the labelled ones' own frames: per label count). */
export interface SslJob {
  key: string;
  look: SynthLook;
  seed: number;
  source: PoolKind;
  /** labelled videos whose frames an `own` run trains on */
  labelled?: number;
}

/** How a weak run starts. */
export interface PoolInit {
  /** key part: `random`, `p2000-full`, `own-encoder`, ... */
  name: string;
  label: string;
  source?: PoolKind;
  transfer: TransferOptions;
}

export interface PoolCell {
  key: string;
  look: SynthLook;
  labelled: number;
  seed: number;
  init: PoolInit;
  /** the SSL run whose best weights this cell starts from */
  ssl?: SslJob;
}

const TRANSFERS = {
  full: { ...UPSTREAM_TRANSFER, pretrainedType: 'pl_full' as const },
  encoder: { ...UPSTREAM_TRANSFER, pretrainedType: 'encoder' as const },
  newhead: { ...UPSTREAM_TRANSFER, pretrainedType: 'pl_full' as const, reinitHead: true },
};
export type TransferName = keyof typeof TRANSFERS;
const TRANSFER_LABEL: Record<TransferName, string> = {
  full: 'every weight (pl_full)',
  encoder: 'encoder only',
  newhead: 'all but the output block',
};

export const RANDOM_INIT: PoolInit = {
  name: 'random',
  label: 'random initialisation',
  transfer: UPSTREAM_TRANSFER,
};

const sourceName = (s: PoolKind) => ('pool' in s ? `p${s.pool}` : 'own');
const sourceLabel = (s: PoolKind) =>
  'pool' in s ? `SSL on ${s.pool.toLocaleString('en')} unlabelled` : 'SSL on the labelled videos only';

export function sslInit(source: PoolKind, transfer: TransferName): PoolInit {
  return {
    name: `${sourceName(source)}-${transfer}`,
    label: `${sourceLabel(source)}, ${TRANSFER_LABEL[transfer]}`,
    source,
    transfer: TRANSFERS[transfer],
  };
}

export function sslJobKey(look: SynthLook, seed: number, source: PoolKind, labelled?: number): string {
  return `${look}-${'pool' in source ? `p${source.pool}` : `own${labelled}`}-s${seed}`;
}

export interface PoolStudyConfig {
  looks: SynthLook[];
  /** labelled training videos per cell, most informative first (e.g. 8, 16, 32) */
  labels: number[];
  /** pool sizes, largest (most informative) first; 0 = no pool runs */
  pools: number[];
  seeds: number[];
  /** also SSL on the labelled videos' own frames */
  own: boolean;
  /** also pl_full with a fresh output block, on the largest pool */
  newHead: boolean;
}

/**
 * Every weak cell in the order to run them: look by look, label count by label count; within one,
 * first random vs the largest pool's pl_full and encoder over all seeds (the study's main
 * question), then the labelled videos' own frames and the fresh output block, then the other
 * pools. Each cell names the SSL run it needs; SSL runs happen when their first cell comes up.
 */
export function planPoolCells(c: PoolStudyConfig): PoolCell[] {
  const cells: PoolCell[] = [];
  const [largest, ...otherPools] = c.pools.filter((p) => p > 0);
  for (const look of c.looks)
    for (const labelled of c.labels) {
      const tiers: PoolInit[][] = [
        [
          RANDOM_INIT,
          ...(largest ? [sslInit({ pool: largest }, 'full'), sslInit({ pool: largest }, 'encoder')] : []),
        ],
        [
          ...(c.own ? [sslInit({ own: true }, 'full'), sslInit({ own: true }, 'encoder')] : []),
          ...(largest && c.newHead ? [sslInit({ pool: largest }, 'newhead')] : []),
        ],
        otherPools.flatMap((pool) => [sslInit({ pool }, 'full'), sslInit({ pool }, 'encoder')]),
      ];
      for (const inits of tiers)
        for (const seed of c.seeds)
          for (const init of inits) {
            const ssl = init.source && {
              key: sslJobKey(look, seed, init.source, labelled),
              look,
              seed,
              source: init.source,
              ...('own' in init.source ? { labelled } : {}),
            };
            cells.push({
              key: `${look}-L${labelled}-${init.name}-s${seed}`,
              look,
              labelled,
              seed,
              init,
              ssl,
            });
          }
    }
  return cells;
}

/** Learning-rate milestones at upstream's share of the run (epochs 45 and 60 of 70). */
export function scaledMilestones(epochs: number): number[] {
  const m = [Math.round((45 / 70) * epochs), Math.round((60 / 70) * epochs)].filter((e) => e >= 1);
  return [...new Set(m)];
}
