// Which of our models (encoder and --width_mult) a state dict belongs to, from its names and
// shapes alone: --width_mult keeps every name and shrinks channel counts, so the names give the
// encoder and the first kernel's output channels give the width.
import {
  createModel,
  encoderFamily,
  ENCODERS,
  modelParamSpecs,
  type EncoderName,
} from '../../graphs/models.js';
import { ECHONET_NORMALISATION } from '../../graphs/preprocess.js';
import { UPSTREAM_UNIFORMER_DEPTHS } from '../../graphs/uniformer-unet.js';
import type { ParamSpec } from '../../graphs/layers.js';
import { FRAME_SIZE } from '../defaults.js';

export interface Architecture {
  encoder: EncoderName;
  widthMult: number;
}

const specCache = new Map<string, ParamSpec[]>();

/** The parameter list (upstream names and shapes) of an encoder at a width; frames and size do not change it. */
export function architectureSpecs(encoder: EncoderName, widthMult: number): ParamSpec[] {
  const key = `${encoder}@${widthMult}`;
  let specs = specCache.get(key);
  if (!specs) {
    const frames = encoderFamily(encoder) === '3d' ? 16 : 4;
    specs = modelParamSpecs(
      createModel({ encoder, frames, size: FRAME_SIZE, widthMult, ...ECHONET_NORMALISATION }),
    );
    specCache.set(key, specs);
  }
  return specs;
}

/** Shapes of the entries that are model weights (BatchNorm's counter and optimizer state are not). */
function weightShapes(shapes: ReadonlyMap<string, number[]>): Map<string, number[]> {
  const names = new Set(shapes.keys());
  const stateOf = /^(.*)\.(exp_avg|exp_avg_sq|max_exp_avg_sq|momentum_buffer)$/;
  return new Map(
    [...shapes].filter(([k]) => {
      if (k.endsWith('.num_batches_tracked')) return false;
      const m = stateOf.exec(k);
      return !(m && names.has(m[1]));
    }),
  );
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The encoder and width whose parameters are exactly these names and shapes, if any. */
export function identifyArchitecture(shapes: ReadonlyMap<string, number[]>): Architecture | undefined {
  const weights = weightShapes(shapes);
  for (const encoder of ENCODERS) {
    const full = architectureSpecs(encoder, 1);
    if (full.length !== weights.size || !full.every((s) => weights.has(s.name))) continue;
    const first = full[0];
    const widthMult = weights.get(first.name)![0] / first.upstreamShape[0];
    if (!(widthMult > 0 && widthMult <= 1)) continue;
    const specs = widthMult === 1 ? full : architectureSpecs(encoder, widthMult);
    if (specs.every((s) => sameShape(weights.get(s.name)!, s.upstreamShape))) return { encoder, widthMult };
  }
  return undefined;
}

/** Blocks per stage of a UniFormer encoder's names (`[encoder.]blocks<stage>.<k>.`), if they are one's. */
export function uniformerDepths(names: Iterable<string>): number[] | undefined {
  const depths = [0, 0, 0, 0];
  let found = false;
  for (const name of names) {
    const m = /^(?:encoder\.)?blocks([1-4])\.(\d+)\./.exec(name);
    if (!m) continue;
    found = true;
    depths[Number(m[1]) - 1] = Math.max(depths[Number(m[1]) - 1], Number(m[2]) + 1);
  }
  return found ? depths : undefined;
}

/** `[5, 8, 20, 7] (uniformer_base)`: depths with the upstream size they belong to, if any. */
export function describeUniformerDepths(depths: number[]): string {
  const size = Object.entries(UPSTREAM_UNIFORMER_DEPTHS).find(([, d]) => d.join() === depths.join())?.[0];
  return `[${depths.join(', ')}]${size ? ` (${size})` : ''}`;
}
