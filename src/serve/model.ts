// Which model.onnx `serve` offers the page by default.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveModelFile } from '../infer/model.js';

/** Where `npm run demo` leaves its trained model, relative to the working folder. */
export const DEMO_MODEL_DIR = 'demo/weak';

/**
 * --model (model.onnx, an artifact set or a training run folder, resolved as segment-video does),
 * else the demo's trained model when the working folder has one, else none (the page then asks
 * for a model file).
 */
export function defaultModelFile(model?: string): string | undefined {
  if (model) return resolveModelFile(resolve(model));
  if (existsSync(resolve(DEMO_MODEL_DIR))) return resolveModelFile(resolve(DEMO_MODEL_DIR));
  return undefined;
}
