// safetensors files on disk: the format itself (encode/decode) is in safetensors-codec.ts.
import { readFileSync } from 'node:fs';
import { atomicWriteFile } from '../util/atomic.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
  type SafetensorsContent,
} from './safetensors-codec.js';

export {
  decodeSafetensors,
  encodeSafetensors,
  type SafeArray,
  type SafeDType,
  type SafeTensor,
  type SafetensorsContent,
} from './safetensors-codec.js';

/** Writes atomically (a reader sees the old file or the new one, never a torn one). */
export function writeSafetensors(
  path: string,
  tensors: Map<string, SafeTensor>,
  metadata: Record<string, string> = {},
): void {
  atomicWriteFile(path, encodeSafetensors({ tensors, metadata }));
}

export function readSafetensors(path: string): SafetensorsContent {
  return decodeSafetensors(readFileSync(path));
}
