// How weak-supervision training starts from another run's weights (--checkpoint): which weights
// are taken (upstream's --pretrained_type pl_full | encoder, and --reinit_head), and how fast the
// taken ones may move (--transfer_lr_scale, --head_warmup_steps). docs/transfer.md has the study
// these choices were measured in.
import type { Manifest } from '../artifacts/index.js';

/** Upstream's choices: every weight of the checkpoint (its default), or the encoder's only. */
export const PRETRAINED_TYPES = ['pl_full', 'encoder'] as const;
export type PretrainedType = (typeof PRETRAINED_TYPES)[number];

export interface TransferOptions {
  pretrainedType: PretrainedType;
  /** start the output block from fresh initial values even where the checkpoint has it */
  reinitHead: boolean;
  /** learning-rate multiplier for the weights taken from the checkpoint (1 = upstream) */
  transferLrScale: number;
  /** steps at the start during which the taken weights stay frozen and only the fresh ones train */
  headWarmupSteps: number;
}

export const UPSTREAM_TRANSFER: TransferOptions = {
  pretrainedType: 'pl_full',
  reinitHead: false,
  transferLrScale: 1,
  headWarmupSteps: 0,
};

/** The encoder's parameters: UNet3D's encoder1-5, the super-image models' ResNet `encoder.*`. */
const isEncoder = (name: string) => name.startsWith('encoder');
/** The output block: UNet3D's decoder1 (the residual unit that ends in one channel), smp's segmentation head. */
const isHead = (name: string) => name.startsWith('decoder1.') || name.startsWith('segmentation_head.');

/** Names of the parameters and buffers that --checkpoint provides under these options. */
export function transferredNames(manifest: Manifest, t: TransferOptions): Set<string> {
  return new Set(
    manifest.params
      .map((p) => p.name)
      .filter((n) => (t.pretrainedType === 'pl_full' || isEncoder(n)) && !(t.reinitHead && isHead(n))),
  );
}

/** The starting weights: the checkpoint's where transferred, the artifact set's initial values elsewhere. */
export function transferWeights(
  initial: ReadonlyMap<string, Float32Array>,
  checkpoint: ReadonlyMap<string, Float32Array>,
  transferred: ReadonlySet<string>,
): Map<string, Float32Array> {
  return new Map(
    [...initial].map(([name, value]) => [name, transferred.has(name) ? checkpoint.get(name)! : value]),
  );
}

/** Rejects option combinations that would silently do nothing or freeze every weight. */
export function checkTransferOptions(manifest: Manifest, t: TransferOptions, hasCheckpoint: boolean): void {
  const custom =
    t.pretrainedType !== 'pl_full' || t.reinitHead || t.transferLrScale !== 1 || t.headWarmupSteps > 0;
  if (custom && !hasCheckpoint)
    throw new Error(
      '--pretrained_type encoder, --reinit_head, --transfer_lr_scale and --head_warmup_steps need --checkpoint',
    );
  if (!(t.transferLrScale >= 0))
    throw new Error(`--transfer_lr_scale must be >= 0, got ${t.transferLrScale}`);
  if (!(Number.isInteger(t.headWarmupSteps) && t.headWarmupSteps >= 0))
    throw new Error(`--head_warmup_steps must be a whole number >= 0, got ${t.headWarmupSteps}`);
  const transferred = transferredNames(manifest, t);
  const fresh = manifest.params.filter((p) => p.kind === 'param' && !transferred.has(p.name));
  if (t.headWarmupSteps > 0 && fresh.length === 0)
    throw new Error(
      '--head_warmup_steps trains only the weights not taken from --checkpoint, and with --pretrained_type pl_full there are none: add --reinit_head or use --pretrained_type encoder',
    );
}

/**
 * Per-parameter learning-rate multipliers at a step, or undefined when every weight uses the base
 * rate: the taken weights get 0 during the warm-up, then --transfer_lr_scale; the fresh ones 1.
 */
export function lrScalesAt(
  transferred: ReadonlySet<string>,
  t: TransferOptions,
  step: number,
): ((name: string) => number) | undefined {
  const scale = step < t.headWarmupSteps ? 0 : t.transferLrScale;
  if (scale === 1 || transferred.size === 0) return undefined;
  return (name) => (transferred.has(name) ? scale : 1);
}
