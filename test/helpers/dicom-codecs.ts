/**
 * The codec fixtures of test/fixtures/dicom/codecs/ (written by dcmtk, gdcm and pydicom through
 * tools/make-dicom-codec-fixtures.ts; manifest.json says which tool wrote each file, how, and
 * which decoding of it by the writer's own toolkit is the reference).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodecFixture, Rendering } from '../../tools/make-dicom-codec-fixtures.js';

export const CODEC_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/dicom/codecs/', import.meta.url));

export interface CodecManifest {
  crop: { width: number; height: number; frames: number };
  tools: Record<string, string>;
  fixtures: CodecFixture[];
  renderings: Rendering[];
}

export const codecManifest = (): CodecManifest =>
  JSON.parse(readFileSync(join(CODEC_FIXTURES, 'manifest.json'), 'utf8')) as CodecManifest;

export const codecFixture = (name: string): string => join(CODEC_FIXTURES, name);

/** Mean, 99th percentile and largest absolute difference of two equally long byte arrays. */
export function differences(a: Uint8Array, b: Uint8Array): { mean: number; p99: number; max: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  const counts = new Float64Array(256);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    counts[d]++;
    sum += d;
  }
  let max = 0;
  let p99 = -1;
  let seen = 0;
  for (let d = 0; d < 256; d++) {
    if (!counts[d]) continue;
    max = d;
    seen += counts[d];
    if (p99 < 0 && seen >= 0.99 * a.length) p99 = d;
  }
  return { mean: sum / a.length, p99, max };
}
