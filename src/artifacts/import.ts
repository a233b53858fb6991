// `unilvseg import-checkpoint`: upstream (or our own) weights -> a complete artifact set whose
// model.onnx and checkpoint.safetensors hold them. The weights are checked against the model
// before anything is written, and the set is assembled in a sibling folder and moved into place,
// so a failed import leaves --out as it was.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { encoderFamily, ENCODERS, type EncoderName } from '../../graphs/models.js';
import { SSL_OPTIMIZER, WEAK_OPTIMIZER, optimizerStateSuffixes } from '../optim/index.js';
import { architectureSpecs, identifyArchitecture, type Architecture } from './architecture.js';
import { buildArtifactSet, inferenceModelBytes, type ArtifactSet, type BuildOptions } from './build.js';
import {
  readWeightsFile,
  stateFromWeights,
  type CheckpointFormat,
  type LoadedCheckpoint,
  type WeightsFile,
} from './checkpoint-file.js';
import { withoutModelPrefix, writeCheckpoint, type WeightsLayout } from './checkpoint.js';
import { bakeWeightsIntoModel, loadArtifactSet } from './load.js';
import { MANIFEST_FILE } from './manifest.js';

/**
 * The clip length and period the paper's models use, the defaults for an imported model: the
 * authors' released 3D weights take T = 32, the super-image models T = 16 (a 4 x 4 grid); period 1.
 */
export const RELEASED_CLIP = { frames: 32, superImageFrames: 16, period: 1 } as const;

const releasedFrames = (encoder: EncoderName) =>
  encoderFamily(encoder) === '3d' ? RELEASED_CLIP.frames : RELEASED_CLIP.superImageFrames;

export interface ImportOptions extends Omit<BuildOptions, 'encoder' | 'frames' | 'period' | 'out'> {
  checkpoint: string;
  out: string;
  /** default: identified from the weights' names and shapes */
  encoder?: string;
  /** default: RELEASED_CLIP's for the encoder's family */
  frames?: number;
  /** default RELEASED_CLIP.period */
  period?: number;
}

export interface ImportResult {
  set: ArtifactSet;
  format: CheckpointFormat;
  architecture: Architecture & { identified: boolean };
  notes: string[];
  ignoredGlobals: string[];
  step: number;
  epoch: number;
}

/** The encoder and width to map onto: the user's, completed or found from the weights. */
function chooseArchitecture(
  file: WeightsFile,
  encoder: string | undefined,
  widthMult: number | undefined,
): Architecture & { identified: boolean } {
  const shapes = new Map([...withoutModelPrefix(file.content.tensors)].map(([k, t]) => [k, t.shape]));
  const found = identifyArchitecture(shapes);
  if (encoder !== undefined && !(ENCODERS as readonly string[]).includes(encoder))
    throw new Error(`unknown encoder "${encoder}" (known: ${ENCODERS.join(', ')})`);
  if (encoder === undefined && !found)
    throw new Error(
      `${file.path}: its ${shapes.size} tensors match none of our models (${ENCODERS.join(', ')}) at any width; give --encoder to see every difference`,
    );
  const chosen = (encoder ?? found!.encoder) as Architecture['encoder'];
  const width = widthMult ?? (found && found.encoder === chosen ? found.widthMult : 1);
  return {
    encoder: chosen,
    widthMult: width,
    identified: !!found && found.encoder === chosen && found.widthMult === width,
  };
}

/** The parameter list of an architecture in manifest form, to check weights before building anything. */
export function weightsLayout(a: Architecture): WeightsLayout {
  return {
    model: a,
    params: architectureSpecs(a.encoder, a.widthMult).map(
      ({ name, kind, shape, upstreamShape, permutation }) => ({
        name,
        kind,
        shape,
        upstreamShape,
        permutation,
      }),
    ),
    ssl: { stateSuffixes: optimizerStateSuffixes(SSL_OPTIMIZER) },
    weak: { stateSuffixes: optimizerStateSuffixes(WEAK_OPTIMIZER) },
  };
}

/** Reads, identifies and maps a checkpoint onto one of our architectures (nothing is written). */
async function mapCheckpoint(
  path: string,
  encoder: string | undefined,
  widthMult: number | undefined,
  opts: { optimizer?: boolean } = {},
): Promise<{
  file: WeightsFile;
  architecture: ReturnType<typeof chooseArchitecture>;
  state: LoadedCheckpoint;
}> {
  const file = await readWeightsFile(path, opts);
  const architecture = chooseArchitecture(file, encoder, widthMult);
  const state = stateFromWeights(file, weightsLayout(architecture));
  return { file, architecture, state };
}

function checkOutFolder(out: string): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length && !entries.includes(MANIFEST_FILE))
    throw new Error(`--out ${out} exists and is not an artifact set; choose a new or empty folder`);
}

export async function importCheckpoint(o: ImportOptions): Promise<ImportResult> {
  const out = resolve(o.out);
  checkOutFolder(out);
  const { architecture, state } = await mapCheckpoint(o.checkpoint, o.encoder, o.widthMult, {
    optimizer: true,
  });
  const frames = o.frames ?? releasedFrames(architecture.encoder);
  const period = o.period ?? RELEASED_CLIP.period;
  const partial = join(dirname(out), `.${basename(out)}.import-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  try {
    const set = await buildArtifactSet({
      ...o,
      encoder: architecture.encoder,
      widthMult: architecture.widthMult,
      frames,
      period,
      out: partial,
      command:
        o.command ??
        `unilvseg import-checkpoint --checkpoint ${o.checkpoint} --encoder ${architecture.encoder} --width_mult ${architecture.widthMult} --frames ${frames} --period ${period} --out ${o.out}`,
    });
    writeCheckpoint(set.files.checkpoint, set.manifest, {
      ...state,
      metadata: { ...state.metadata, imported_from: basename(o.checkpoint), imported_format: state.format },
    });
    bakeWeightsIntoModel(set.dir, state.params);
    rmSync(out, { recursive: true, force: true });
    renameSync(partial, out);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
  return {
    set: loadArtifactSet(out),
    format: state.format,
    architecture,
    notes: state.notes,
    ignoredGlobals: state.ignoredGlobals,
    step: state.step,
    epoch: state.epoch,
  };
}

/**
 * model.onnx bytes for a checkpoint that has no artifact set at hand (e.g. an upstream .ckpt given
 * to predict or segment-video): the architecture comes from the weights, T and p from the caller.
 */
export async function inferenceModelFromCheckpoint(
  path: string,
  clip: { frames?: number; period?: number; backend?: BuildOptions['backend'] },
): Promise<{ bytes: Uint8Array; describe: string; notes: string[] }> {
  const { file, architecture, state } = await mapCheckpoint(path, undefined, undefined);
  const frames = clip.frames ?? releasedFrames(architecture.encoder);
  const period = clip.period ?? RELEASED_CLIP.period;
  const bytes = inferenceModelBytes(
    {
      encoder: architecture.encoder,
      widthMult: architecture.widthMult,
      frames,
      period,
      backend: clip.backend,
    },
    state.params,
  );
  return {
    bytes,
    describe: `${file.format} checkpoint ${resolve(path)} imported on the fly as ${architecture.encoder} (width ${architecture.widthMult}, T=${frames}, p=${period})`,
    notes: state.notes,
  };
}
