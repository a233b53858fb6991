// What a segmentation model.onnx says about itself (T, p, frame size, encoder), checked against
// its input shape. Pure: the Node loader (model.ts) and the browser viewer (web/) both use it.
import { decodeGraph } from '../onnx/serialize.js';

export const ONNX_MAGIC_HINT =
  'expected an ONNX model (model.onnx), an artifact-set folder or a training run folder';

export interface ModelHeader {
  frames: number;
  period: number;
  size: number;
  encoder: string;
  /** The normalisation mean per RGB channel on [0, 1] the graph applies (its metadata), when stated. */
  mean?: number[];
}

/** The metadata's mean (a JSON array of three numbers), or undefined when absent or malformed. */
function metadataMean(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      return v as number[];
  } catch {
    // not JSON: treated as absent
  }
  return undefined;
}

/**
 * T, p and size from the model's metadata (written by buildArtifactSet), checked against its
 * `frames` input, so a foreign or damaged file is refused before any video is read.
 */
export function readModelHeader(file: string, bytes: Uint8Array): ModelHeader {
  let graph;
  try {
    graph = decodeGraph(bytes);
  } catch (e) {
    throw new Error(`${file} is not a readable ONNX model (${(e as Error).message}); ${ONNX_MAGIC_HINT}`, {
      cause: e,
    });
  }
  const input = graph.inputs.find((v) => v.name === 'frames');
  const output = graph.outputs.find((v) => v.name === 'logits');
  if (!input || input.dtype !== 'uint8' || input.shape.length !== 5 || !output) {
    throw new Error(
      `${file} is not a segmentation model: it needs input "frames" uint8 [N, T, H, W, 3] and output "logits" (has inputs ${graph.inputs.map((v) => v.name).join(', ') || 'none'})`,
    );
  }
  const [, T, H, W] = input.shape;
  const meta = graph.metadata;
  const frames = Number(meta.frames ?? T);
  const size = Number(meta.size ?? H);
  const period = Number(meta.period ?? 1);
  if (!(Number.isInteger(frames) && frames >= 1) || (typeof T === 'number' && T !== frames))
    throw new Error(
      `${file}: frames metadata ${meta.frames} does not match its input shape [${input.shape}]`,
    );
  if (
    !(Number.isInteger(size) && size >= 1) ||
    (typeof H === 'number' && H !== size) ||
    (typeof W === 'number' && W !== size)
  ) {
    throw new Error(`${file}: size metadata ${meta.size} does not match its input shape [${input.shape}]`);
  }
  if (!(Number.isInteger(period) && period >= 1))
    throw new Error(`${file}: period metadata "${meta.period}" is not a positive integer`);
  const mean = metadataMean(meta.mean);
  return { frames, period, size, encoder: meta.encoder ?? 'unknown', ...(mean ? { mean } : {}) };
}
