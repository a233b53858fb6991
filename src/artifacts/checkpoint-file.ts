// The one way every command reads a --checkpoint: our safetensors, a PyTorch Lightning .ckpt or a
// plain torch.save(state_dict), told apart by their first bytes (never by the file name), then
// mapped onto a model's parameters with every difference reported at once.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import {
  paramsFromCheckpoint,
  withoutModelPrefix,
  type TrainingState,
  type WeightsLayout,
} from './checkpoint.js';
import { readSafetensors, type SafeTensor, type SafetensorsContent } from './safetensors.js';
import { readTorchCheckpoint } from './torch/state-dict.js';

export const ACCEPTED_CHECKPOINTS =
  'a PyTorch Lightning checkpoint (.ckpt), a torch.save() file of a state dict (PyTorch 1.6 or later, a zip archive), ' +
  'or a safetensors file (checkpoint.safetensors of an artifact set, best/last.safetensors of a run)';

/** 'encoder': an encoder's released classification weights (`{'model': state_dict}`), names without `encoder.` */
export type CheckpointFormat = 'lightning' | 'torch' | 'safetensors' | 'encoder';

export interface WeightsFile {
  path: string;
  format: CheckpointFormat;
  /** tensors in upstream names and layouts (a Lightning `model.` prefix may still be on them) and metadata (step, epoch) */
  content: SafetensorsContent;
  /** Lightning: the optimizer's per-parameter state in model.parameters() order */
  optimizerByIndex?: Map<string, SafeTensor>[];
  /** what was converted or left out, for the user */
  notes: string[];
  /** globals of a torch file kept as inert placeholders */
  ignoredGlobals: string[];
}

// The pickle a torch.save before PyTorch 1.6 starts with: PROTO, then LONG1 of the magic 0x1950a86a20f9469cfc6c.
const LEGACY_TORCH_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Which reader a file needs, from its first bytes; anything else is an error naming the accepted formats. */
export function detectCheckpointFormat(path: string): 'torch-zip' | 'safetensors' {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  const st = statSync(path);
  if (st.isDirectory())
    throw new Error(`${path} is a folder; a checkpoint is a file: ${ACCEPTED_CHECKPOINTS}`);
  const size = st.size;
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32BE(0) === 0x504b0304) return 'torch-zip';
  if (head.readUInt32BE(0) === 0x504b0506)
    throw new Error(`${path} is an empty zip archive, not a checkpoint`);
  if (size >= 10 && head[8] === 0x7b /* { */ && head.readBigUInt64LE(0) >= 2n) return 'safetensors';
  if (head[0] === 0x80 && LEGACY_TORCH_MAGIC.every((b, i) => head[2 + i] === b))
    throw new Error(
      `${path} was written by torch.save in the format before PyTorch 1.6 (or with _use_new_zipfile_serialization=False); ` +
        `re-save it with a recent PyTorch: torch.save(torch.load(path, map_location="cpu"), "new.ckpt")`,
    );
  throw new Error(`${path} is not a checkpoint in a format we read; accepted: ${ACCEPTED_CHECKPOINTS}`);
}

/** Reads a checkpoint file of any accepted format into upstream-named float32 tensors. */
export async function readWeightsFile(
  path: string,
  opts: Pick<LoadOptions, 'optimizer'> = {},
): Promise<WeightsFile> {
  if (detectCheckpointFormat(path) === 'safetensors')
    return { path, format: 'safetensors', content: readSafetensors(path), notes: [], ignoredGlobals: [] };
  const t = await readTorchCheckpoint(path, opts);
  return {
    path,
    format: t.format,
    content: { tensors: t.tensors, metadata: t.metadata },
    optimizerByIndex: t.optimizerByIndex,
    notes: t.notes,
    ignoredGlobals: t.ignoredGlobals,
  };
}

/**
 * Lightning keeps optimizer state by parameter position; ours is by name. The positions are
 * model.parameters() order, which is the manifest's order of parameters ('unused' ones included:
 * they are upstream parameters too, whose state PyTorch never creates, so they have none here).
 */
function nameOptimizerState(manifest: WeightsLayout, file: WeightsFile): void {
  const byIndex = file.optimizerByIndex;
  if (!byIndex) return;
  const positions = manifest.params.filter((p) => p.kind !== 'buffer');
  const suffixes = new Set([...manifest.ssl.stateSuffixes, ...manifest.weak.stateSuffixes]);
  const fits =
    byIndex.length === positions.length &&
    byIndex.every((m, i) =>
      [...m].every(([k, t]) => !suffixes.has(k) || t.shape.join() === positions[i].upstreamShape.join()),
    );
  if (!fits) {
    file.notes.push(
      `optimizer state not imported: it covers ${byIndex.length} parameters in another arrangement than the model's ${positions.length}`,
    );
    return;
  }
  byIndex.forEach((m, i) => {
    if (positions[i].kind !== 'param') return;
    for (const [k, t] of m) if (suffixes.has(k)) file.content.tensors.set(`${positions[i].name}.${k}`, t);
  });
  file.notes.push(`optimizer state (${[...suffixes].filter((s) => byIndex[0].has(s)).join(', ')}) imported`);
}

export interface LoadedCheckpoint extends TrainingState {
  format: CheckpointFormat;
  notes: string[];
  ignoredGlobals: string[];
}

export interface LoadOptions {
  /** bring a Lightning checkpoint's optimizer state along */
  optimizer?: boolean;
  /** accept an encoder checkpoint (format 'encoder'): the state then holds the encoder's weights only */
  encoderOnly?: boolean;
}

/**
 * The training state in a checkpoint file of any accepted format, for a model described by its
 * manifest (graph layouts). Lightning optimizer state comes along when `optimizer` is set.
 */
export async function loadCheckpoint(
  path: string,
  manifest: WeightsLayout,
  opts: LoadOptions = {},
): Promise<LoadedCheckpoint> {
  return stateFromWeights(await readWeightsFile(path, opts), manifest, opts);
}

/**
 * An encoder checkpoint's tensors under the model's names, and the model's layout cut to its
 * encoder: upstream loads such a file with model.encoder.load_state_dict, so every encoder weight
 * must be there and nothing else may be.
 */
function asEncoderWeights(file: WeightsFile, manifest: WeightsLayout): WeightsLayout {
  const encoder = manifest.params.filter((p) => p.name.startsWith('encoder.'));
  if (encoder.length === 0)
    throw new Error(`${file.path}: ${manifest.model.encoder} has no encoder.* weights to load it into`);
  file.content.tensors = new Map([...file.content.tensors].map(([k, v]) => [`encoder.${k}`, v]));
  return { ...manifest, params: encoder };
}

/** Maps a read file onto a model: prefix dropped, optimizer state named, layouts converted, all checked. */
export function stateFromWeights(
  file: WeightsFile,
  manifest: WeightsLayout,
  opts: Pick<LoadOptions, 'encoderOnly'> = {},
): LoadedCheckpoint {
  if (file.format === 'encoder') {
    if (!opts.encoderOnly)
      throw new Error(
        `${file.path} holds an encoder's weights only (a {'model': state_dict} file such as UniFormer's ImageNet checkpoints), not a whole model: ` +
          'it initialises the encoder in ort-train --phase weak --pretrained_type encoder',
      );
    manifest = asEncoderWeights(file, manifest);
  }
  file.content.tensors = withoutModelPrefix(file.content.tensors);
  nameOptimizerState(manifest, file);
  const state = paramsFromCheckpoint(manifest, file.content, file.path);
  return { ...state, format: file.format, notes: file.notes, ignoredGlobals: file.ignoredGlobals };
}
