// checkpoint.safetensors <-> training state. The file holds upstream names and layouts so that a
// PyTorch user can load it; our graphs use their own layout, so kernels are permuted on the way in
// and out (manifest params[].permutation: graph = upstream.permute(permutation)).
import {
  readSafetensors,
  writeSafetensors,
  type SafeTensor,
  type SafetensorsContent,
} from './safetensors.js';
import { ENCODERS } from '../../graphs/models.js';
import {
  describeUniformerDepths,
  identifyArchitecture,
  uniformerDepths,
  type Architecture,
} from './architecture.js';
import {
  checkpointFromParams,
  stateSuffixes,
  toGraph,
  type TrainingState,
  type WeightsLayout,
} from './checkpoint-layout.js';
import { producerVersion, type Manifest, type ManifestParam } from './manifest.js';

export {
  checkpointFromParams,
  inversePermutation,
  permuteArray,
  type TrainingState,
  type WeightsLayout,
} from './checkpoint-layout.js';

/** Weights that do not fit a model: every difference, and what the weights are if they fit another of our models. */
export class CheckpointMismatchError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
    readonly unexpected: string[],
    /** `name [shape] (needs [shape])` or `name is <dtype>, not F32` */
    readonly wrong: string[],
    readonly identified: Architecture | undefined,
  ) {
    super(message);
  }
}

const MAX_LISTED = 400;

function mismatchError(
  manifest: WeightsLayout,
  source: string,
  tensors: Map<string, SafeTensor>,
  missing: string[],
  unexpected: string[],
  wrong: string[],
): CheckpointMismatchError {
  const md = manifest.model;
  const here = `${md.encoder} (width ${md.widthMult})`;
  const identified = identifyArchitecture(new Map([...tensors].map(([k, t]) => [k, t.shape])));
  const lines = [
    `${source}: the weights do not fit ${here}: ${missing.length} missing, ${unexpected.length} unexpected, ${wrong.length} of another shape or type.`,
  ];
  if (identified && (identified.encoder !== md.encoder || identified.widthMult !== md.widthMult))
    lines.push(
      `They are a ${identified.encoder} checkpoint (width ${identified.widthMult}), a different architecture: use --encoder ${identified.encoder} --width_mult ${identified.widthMult} (or an artifact set built with them).`,
    );
  else if (!identified) {
    const theirs = uniformerDepths(tensors.keys());
    const ours = uniformerDepths(manifest.params.map((p) => p.name));
    if (theirs && ours && theirs.join() !== ours.join())
      lines.push(
        `They are a UniFormer of another size: blocks per stage ${describeUniformerDepths(theirs)}, where ${md.encoder} has [${ours.join(', ')}].`,
      );
    else lines.push(`They match none of our models (${ENCODERS.join(', ')}) at any width.`);
  }
  const listed: string[] = [];
  for (const [title, items] of [
    ['missing', missing],
    ['unexpected', unexpected],
    ['another shape or type', wrong],
  ] as const)
    if (items.length) listed.push(`${title}:`, ...items.map((x) => `  ${x}`));
  if (listed.length > MAX_LISTED)
    listed.splice(MAX_LISTED, listed.length, `  ... and ${listed.length - MAX_LISTED} more lines`);
  return new CheckpointMismatchError(
    [...lines, ...listed].join('\n'),
    missing,
    unexpected,
    wrong,
    identified,
  );
}

/** Drops the `model.` prefix a Lightning module's state dict puts on every key. */
export function withoutModelPrefix<T>(tensors: Map<string, T>): Map<string, T> {
  const prefixed = tensors.size > 0 && [...tensors.keys()].every((k) => k.startsWith('model.'));
  return prefixed ? new Map([...tensors].map(([k, v]) => [k.slice('model.'.length), v])) : tensors;
}

/**
 * A training state from checkpoint content in upstream names and layouts (a Lightning state
 * dict's `model.` prefix is accepted). Every missing parameter, unknown tensor and wrong shape or
 * type is reported in one CheckpointMismatchError.
 */
export function paramsFromCheckpoint(
  manifest: WeightsLayout,
  content: SafetensorsContent,
  source = 'checkpoint',
): TrainingState {
  const tensors = withoutModelPrefix(content.tensors);
  const used = new Set<string>();
  const missing: string[] = [];
  const wrong: string[] = [];
  const check = (name: string, p: ManifestParam): boolean => {
    const t = tensors.get(name)!;
    used.add(name);
    if (t.dtype !== 'F32') wrong.push(`${name} is ${t.dtype}, not F32`);
    else if (t.shape.join(',') !== p.upstreamShape.join(','))
      wrong.push(`${name} [${t.shape}] (needs [${p.upstreamShape}])`);
    else return true;
    return false;
  };
  const params = new Map<string, Float32Array>();
  const optimizer = new Map<string, Float32Array>();
  for (const p of manifest.params) {
    if (!tensors.has(p.name)) missing.push(`${p.name} [${p.upstreamShape}]`);
    else if (check(p.name, p)) params.set(p.name, toGraph(p, tensors.get(p.name)!.data as Float32Array));
    for (const suffix of stateSuffixes(manifest)) {
      const key = `${p.name}.${suffix}`;
      if (tensors.has(key) && check(key, p))
        optimizer.set(key, toGraph(p, tensors.get(key)!.data as Float32Array));
    }
  }
  const unexpected = [...tensors]
    .filter(([k]) => !used.has(k) && !k.endsWith('.num_batches_tracked'))
    .map(([k, t]) => `${k} [${t.shape}]`);
  if (missing.length || unexpected.length || wrong.length)
    throw mismatchError(manifest, source, tensors, missing, unexpected, wrong);
  const { step = '0', epoch = '0', ...rest } = content.metadata;
  const metadata = Object.fromEntries(
    Object.entries(rest).filter(([k]) => !['format', 'producer', 'encoder'].includes(k)),
  );
  return { params, optimizer, step: Number(step), epoch: Number(epoch), metadata };
}

export function writeCheckpoint(path: string, manifest: Manifest, state: TrainingState): void {
  const c = checkpointFromParams(manifest, state, producerVersion());
  writeSafetensors(path, c.tensors, c.metadata);
}

export function readCheckpoint(path: string, manifest: Manifest): TrainingState {
  return paramsFromCheckpoint(manifest, readSafetensors(path), path);
}
