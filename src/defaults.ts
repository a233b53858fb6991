// Shared vocabulary and defaults of every stage, defined once (docs/upstream.md#defaults).

/** The two training phases: temporal-masking pre-training and weak supervision. */
export type Phase = 'ssl' | 'weak';

/** Every upstream script seeds with 42; so do our training, sampling, bootstrap and `--pct_train`. */
export const DEFAULT_SEED = 42;

/** Upstream's fraction of masked frames in temporal-masking pre-training. */
export const DEFAULT_MASK_RATIO = 0.6;

/**
 * EchoNet-Dynamic's frame side: the models' default input size, the size of the training masks,
 * and the fixed size at which upstream's evaluator rebuilds the ground truth.
 */
export const FRAME_SIZE = 112;
