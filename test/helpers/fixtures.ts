// Small synthetic datasets and artifact sets shared by the slower tests, built once per machine
// in the OS temp folder (keyed by their settings; a marker file says the build finished).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArtifactSet, loadArtifactSet, type ArtifactSet } from '../../src/artifacts/index.js';
import { generateDataset } from '../../src/data/synth/dataset.js';
import type { Backend } from '../../src/onnx/forms.js';
import { defaultTrainOptions, type TrainOptions } from '../../src/train/options.js';

async function once(dir: string, make: (dir: string) => Promise<unknown>): Promise<string> {
  const done = join(dir, '.fixture-complete');
  if (existsSync(done)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await make(dir);
  writeFileSync(done, new Date().toISOString());
  return dir;
}

/** A synthetic EchoNet-format dataset of short videos. */
export function synthDataset(videos = 8, seed = 5, framesMin = 40, framesMax = 56): Promise<string> {
  const dir = join(tmpdir(), `unilvseg-fixture-synth-${videos}-${seed}-${framesMin}-${framesMax}`);
  return once(dir, (out) => generateDataset({ out, videos, seed, framesMin, framesMax, progress: false }));
}

/**
 * The names of a synthetic dataset's videos (`Videos/*.avi`), sorted. Only the .avi files: a
 * command run over the folder may leave its frame cache (`.unilvseg-cache/`) beside them.
 */
export function fixtureVideoNames(data: string): string[] {
  return readdirSync(join(data, 'Videos'))
    .filter((n) => n.endsWith('.avi'))
    .sort();
}

/** A hash of the compiled code that emits graphs, so a cached set is rebuilt when that code changes. */
function graphCodeHash(): string {
  const h = createHash('sha256');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  for (const dir of [
    'graphs',
    'src/artifacts',
    'src/onnx',
    'src/onnx/ops',
    'src/autodiff',
    'src/autodiff/rules',
    'src/optim',
  ]) {
    const abs = join(root, dir);
    for (const f of readdirSync(abs)
      .filter((n) => n.endsWith('.js'))
      .sort())
      h.update(readFileSync(join(abs, f)));
  }
  return h.digest('hex').slice(0, 12);
}

/** A tiny 3D U-Net artifact set (16 frames, width 1/16) for training tests. */
export async function tinyArtifactSet(
  encoder = '3d_unet_small',
  widthMult = 0.0625,
  frames = 16,
  extra: { size?: number; backend?: Backend } = {},
): Promise<ArtifactSet> {
  const { size = 112, backend = 'cpu' } = extra;
  const key = `${encoder}-${widthMult}-${frames}-${size}-${backend}-${graphCodeHash()}`;
  const dir = join(tmpdir(), `unilvseg-fixture-set-${key}`);
  await once(dir, (out) =>
    buildArtifactSet({ encoder, frames, period: 1, widthMult, size, backend, out, seed: 1 }),
  );
  return loadArtifactSet(dir);
}

/**
 * Training options for the default tiny set on the default synthetic dataset: the phase's
 * defaults with the set's encoder, width and frames, one thread (the tests set the rest).
 */
export async function tinyTrainOptions(phase: 'ssl' | 'weak'): Promise<Omit<TrainOptions, 'out'>> {
  const set = await tinyArtifactSet();
  return {
    ...defaultTrainOptions(phase),
    dataPath: await synthDataset(),
    artifacts: set.dir,
    encoder: set.manifest.model.encoder,
    widthMult: set.manifest.model.widthMult,
    frames: set.manifest.model.frames,
    threads: 1,
  };
}
