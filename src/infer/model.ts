// Loading a segmentation model for inference from whatever the user has at hand: a model.onnx,
// an artifact set, a training run folder, or a checkpoint plus the artifact set it belongs to.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  ACCEPTED_CHECKPOINTS,
  detectCheckpointFormat,
  loadCheckpoint,
} from '../artifacts/checkpoint-file.js';
import { inferenceModelFromCheckpoint } from '../artifacts/import.js';
import { bakeWeightsIntoModel, loadArtifactSet, MANIFEST_FILE } from '../artifacts/index.js';
import { createSession, resolveProvider, tensor, type ExecutionProvider, type ort } from '../onnx/runtime.js';
import { ONNX_MAGIC_HINT, readModelHeader } from './model-header.js';

export interface ModelSource {
  /** model.onnx, an artifact-set folder, or a training run folder (uses <run>/artifacts/model.onnx). */
  model?: string;
  /**
   * Weights in any accepted checkpoint format, run with --artifacts or <folder of the checkpoint>/artifacts;
   * without a set, the model is built from the weights' architecture with `frames` and `period`.
   */
  checkpoint?: string;
  artifacts?: string;
  /** T and p of a model built on the fly from a checkpoint without a set (default 32 and 1, as the authors' weights) */
  frames?: number;
  period?: number;
  ep?: ExecutionProvider;
  threads?: number;
}

export interface SegmentationModel {
  session: ort.InferenceSession;
  /** T, p and the square frame side the model was built for. */
  frames: number;
  period: number;
  size: number;
  encoder: string;
  /** One line saying what runs: encoder, T, p, size, where the weights come from, provider. */
  describe: string;
  /** logits float32 [n, T, size, size] for clips uint8 [n, T, size, size, 3]. */
  run(clips: Uint8Array, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

function requirePath(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} ${path} does not exist`);
}

function isCheckpointFile(path: string): boolean {
  try {
    detectCheckpointFormat(path);
    return true;
  } catch {
    return false;
  }
}

/** model.onnx of an artifact set or of a run folder's set, or the file itself. */
export function resolveModelFile(path: string): string {
  requirePath(path, '--model');
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, MANIFEST_FILE))) return loadArtifactSet(path).files.model;
    if (existsSync(join(path, 'artifacts', MANIFEST_FILE)))
      return loadArtifactSet(join(path, 'artifacts')).files.model;
    if (existsSync(join(path, 'model.onnx'))) return join(path, 'model.onnx');
    throw new Error(
      `--model ${path} is a folder without model.onnx, ${MANIFEST_FILE} or artifacts/; ${ONNX_MAGIC_HINT}`,
    );
  }
  if (isCheckpointFile(path))
    throw new Error(
      `--model ${path} is a checkpoint; pass it as --checkpoint (with --artifacts if its set is not in ${join(dirname(path), 'artifacts')})`,
    );
  return path;
}

/**
 * The model.onnx to run, plus where its weights come from (for `describe`); a checkpoint is baked
 * into a temporary copy of a model.onnx, which `cleanup` removes.
 */
export async function locateModel(
  src: ModelSource,
): Promise<{ file: string; origin: string; cleanup?: () => void }> {
  if (src.model && src.checkpoint) throw new Error('give either --model or --checkpoint, not both');
  if (src.model) {
    const file = resolveModelFile(resolve(src.model));
    return { file, origin: file };
  }
  if (!src.checkpoint)
    throw new Error(
      'no model: give --model (model.onnx, an artifact set or a run folder) or --checkpoint (a .safetensors, Lightning .ckpt or torch.save file)',
    );
  const ckpt = resolve(src.checkpoint);
  requirePath(ckpt, '--checkpoint');
  if (statSync(ckpt).isDirectory() || /\.onnx$/i.test(ckpt))
    throw new Error(
      `--checkpoint ${src.checkpoint} is not a checkpoint file (${ACCEPTED_CHECKPOINTS}); pass a model.onnx or a folder as --model`,
    );
  const setDir = resolve(src.artifacts ?? join(dirname(ckpt), 'artifacts'));
  const hasSet = existsSync(join(setDir, MANIFEST_FILE));
  if (src.artifacts && !hasSet)
    throw new Error(
      `--checkpoint needs the artifact set it was trained with: ${setDir} has no ${MANIFEST_FILE}; pass --artifacts <dir>`,
    );
  // Baking into a temporary copy keeps the set's own model.onnx (the run's best weights) intact.
  const tmp = mkdtempSync(join(tmpdir(), 'unilvseg-model-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  try {
    const file = join(tmp, 'model.onnx');
    if (hasSet) {
      const set = loadArtifactSet(setDir);
      const state = await loadCheckpoint(ckpt, set.manifest);
      bakeWeightsIntoModel(set.dir, state.params, file);
      return { file, origin: `${state.format} checkpoint ${ckpt} (artifact set ${setDir})`, cleanup };
    }
    // No set at hand (e.g. the authors' .ckpt): the architecture comes from the weights.
    const imported = await inferenceModelFromCheckpoint(ckpt, {
      frames: src.frames,
      period: src.period,
      backend: src.ep === 'webgpu' ? 'webgpu' : 'cpu',
    });
    writeFileSync(file, imported.bytes);
    return { file, origin: imported.describe, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

export async function loadSegmentationModel(src: ModelSource): Promise<SegmentationModel> {
  const { file, origin, cleanup } = await locateModel(src);
  try {
    const bytes = readFileSync(file);
    const header = readModelHeader(file, bytes);
    const { provider, reason } = await resolveProvider(src.ep);
    // A video's last group of windows is a smaller batch: ORT's memory pattern would keep a block per batch size.
    const session = await createSession(bytes, { ep: provider, threads: src.threads, memPattern: false });
    const { frames: T, size } = header;
    const describe = `${header.encoder} T=${T} p=${header.period} ${size}x${size} from ${origin} on ${reason}`;
    return {
      session,
      ...header,
      describe,
      async run(clips, n) {
        const expected = n * T * size * size * 3;
        if (clips.length !== expected)
          throw new Error(`model input holds ${clips.length} bytes, expected ${n}x${T}x${size}x${size}x3`);
        const out = await session.run({ frames: tensor('uint8', clips, [n, T, size, size, 3]) });
        return out.logits.data as Float32Array;
      },
      release: () => session.release(),
    };
  } finally {
    cleanup?.();
  }
}

/** --frames/--period may restate the model's values; a different value is a mistake, not a request. */
export function checkClipSettings(
  model: Pick<SegmentationModel, 'frames' | 'period'>,
  frames?: number,
  period?: number,
): void {
  if (frames !== undefined && frames !== model.frames)
    throw new Error(
      `--frames ${frames} differs from the model's T=${model.frames}; the clip length is fixed when the model is built`,
    );
  if (period !== undefined && period !== model.period)
    throw new Error(
      `--period ${period} differs from the model's p=${model.period} (the period it was trained with)`,
    );
}
