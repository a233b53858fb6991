/** Optimiser settings; lr and step are graph inputs so schedules live in TypeScript. */
export type OptimizerConfig =
  | { kind: 'adamw'; beta1: number; beta2: number; eps: number; weightDecay: number; amsgrad: boolean }
  | { kind: 'sgd'; momentum: number; weightDecay: number; dampening?: number; nesterov?: boolean };

/**
 * Temporal-masking pre-training (docs/upstream.md#3d-masking): AdamW(3e-4, betas (0.9, 0.95), wd 1e-3,
 * amsgrad).
 */
export const SSL_OPTIMIZER: OptimizerConfig = {
  kind: 'adamw',
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 1e-3,
  amsgrad: true,
};
/**
 * Weak supervision (docs/upstream.md#optimiser-and-schedule): AdamW(3e-4, betas (0.9, 0.999), wd 1e-5,
 * amsgrad).
 */
export const WEAK_OPTIMIZER: OptimizerConfig = {
  kind: 'adamw',
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 1e-5,
  amsgrad: true,
};
export const DEFAULT_LR = 3e-4;

export function optimizerStateSuffixes(cfg: OptimizerConfig): string[] {
  if (cfg.kind === 'sgd') return cfg.momentum ? ['momentum_buffer'] : [];
  return cfg.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
}
