// Where a run stands, saved inside last.safetensors' metadata so that --resume continues exactly.
import { existsSync } from 'node:fs';
import { readCheckpoint, writeCheckpoint, type Manifest, type TrainingState } from '../artifacts/index.js';

export interface RunProgress {
  /** batches already done in the current epoch */
  batch: number;
  /** best validation metric so far (val_dsc for weak, -val_loss for ssl: larger is better) */
  best: number;
  bestStep: number;
  validations: number;
  /** videos found bad so far (skipped from then on) */
  badFiles: string[];
}

const KEY = 'unilvseg.run';

export function initialProgress(): RunProgress {
  return { batch: 0, best: -Infinity, bestStep: -1, validations: 0, badFiles: [] };
}

export function saveState(
  path: string,
  manifest: Manifest,
  state: TrainingState,
  progress: RunProgress,
): void {
  state.metadata[KEY] = JSON.stringify({
    ...progress,
    best: Number.isFinite(progress.best) ? progress.best : null,
  });
  writeCheckpoint(path, manifest, state); // atomic: temp file + rename
}

export function loadState(path: string, manifest: Manifest): { state: TrainingState; progress: RunProgress } {
  if (!existsSync(path)) throw new Error(`cannot resume: ${path} does not exist`);
  const state = readCheckpoint(path, manifest);
  const raw = state.metadata[KEY];
  const saved = raw ? (JSON.parse(raw) as RunProgress & { best: number | null }) : undefined;
  const progress = saved ? { ...saved, best: saved.best ?? -Infinity } : initialProgress();
  return { state, progress };
}
