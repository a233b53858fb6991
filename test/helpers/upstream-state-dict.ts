// Upstream's state-dict listings (test/models/fixtures/*-state-dict.tsv: key and shape of every
// tensor of upstream's module at full width, docs/upstream.md#unet3d), and the same listing for a
// narrowed model: every channel count c becomes max(1, round(c * width)) as --width_mult narrows
// them; the 3 input channels, the 1 output channel, PReLU's single slope and the kernel sizes stay.
// test/artifacts/torch-checkpoint.test.ts checks the narrowing against a state dict PyTorch wrote.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SafeTensor } from '../../src/artifacts/safetensors.js';

export const STATE_DICT_TSV = {
  '3d_unet': 'unet3d-state-dict.tsv',
  '3d_unet_small': 'unet3d-small-state-dict.tsv',
} as const;

/** The listing as `key shape` lines (shape comma-separated, upstream layout), in upstream's order. */
export function upstreamStateDict(encoder: keyof typeof STATE_DICT_TSV, width = 1): string[] {
  // Tests run from dist/test/helpers.
  const file = fileURLToPath(
    new URL(`../../../test/models/fixtures/${STATE_DICT_TSV[encoder]}`, import.meta.url),
  );
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('key\t'))
    .map((l) => {
      const [key, shape] = l.split('\t');
      const dims = shape.split(',').map(Number);
      // Channel dims: [out, in] of a conv kernel (ConvTranspose: [in, out]), the length of a bias.
      const channels = dims.length === 1 ? 1 : 2;
      const narrowed = dims.map((d, i) =>
        i < channels && d !== 1 && d !== 3 ? Math.max(1, Math.round(d * width)) : d,
      );
      return `${key} ${narrowed.join(',')}`;
    });
}

/** A checkpoint's tensors as the same `key shape` lines, in the file's order. */
export function stateDictListing(tensors: ReadonlyMap<string, SafeTensor>, prefix = ''): string[] {
  return [...tensors].map(([k, t]) => `${k.slice(prefix.length)} ${t.shape.join(',')}`);
}
