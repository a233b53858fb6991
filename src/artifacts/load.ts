// Reading an artifact set back, and writing trained weights into its inference graph.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { atomicWriteFile } from '../util/atomic.js';
import { bakeWeights } from './bake.js';
import { artifactFiles, type ArtifactSet } from './build.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';

/** Reads manifest.json of a set written by buildArtifactSet and checks that its files exist. */
export function loadArtifactSet(dir: string): ArtifactSet {
  const abs = resolve(dir);
  const manifestPath = join(abs, MANIFEST_FILE);
  if (!existsSync(manifestPath))
    throw new Error(
      `${abs} is not an artifact set (no ${MANIFEST_FILE}); build one with \`unilvseg build-graph\``,
    );
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  if (manifest.format !== 'unilvseg-artifact-set')
    throw new Error(`${manifestPath}: not an artifact-set manifest`);
  if (manifest.formatVersion !== 1)
    throw new Error(
      `${manifestPath}: format version ${manifest.formatVersion} is not supported (expected 1)`,
    );
  const files = artifactFiles(abs);
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`artifact set ${abs} is incomplete: missing ${missing.join(', ')}`);
  return { dir: abs, manifest, files };
}

/**
 * Writes the set's model.onnx with the given weights (graph layout, every parameter and buffer of
 * the manifest that a graph reads) as its initializers, e.g. the best weights of a training run. Atomic.
 */
export function bakeWeightsIntoModel(
  setDir: string,
  params: ReadonlyMap<string, Float32Array>,
  outPath?: string,
): string {
  const set = loadArtifactSet(setDir);
  const bytes = bakeWeights(
    readFileSync(set.files.model),
    set.manifest.params,
    params,
    set.manifest.producer.version,
    set.files.model,
  );
  const target = outPath ?? set.files.model;
  atomicWriteFile(target, bytes);
  return target;
}
