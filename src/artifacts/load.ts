// Reading an artifact set back, and writing trained weights into its inference graph.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeGraph, encodeGraph } from '../onnx/serialize.js';
import { atomicWriteFile } from '../util/atomic.js';
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
  const bytes = readFileSync(set.files.model);
  const graph = decodeGraph(bytes);
  for (const p of set.manifest.params) {
    if (p.kind === 'unused') continue; // in the checkpoint, not in any graph
    const value = params.get(p.name);
    if (!value) throw new Error(`bakeWeightsIntoModel: no value for ${p.name}`);
    const init = graph.initializers.get(p.name);
    if (!init) throw new Error(`bakeWeightsIntoModel: ${set.files.model} has no initializer ${p.name}`);
    if (value.length !== init.data.length)
      throw new Error(
        `bakeWeightsIntoModel: ${p.name} has ${value.length} values, the model needs ${init.data.length}`,
      );
    graph.initializers.set(p.name, { dtype: 'float32', dims: init.dims, data: value });
  }
  const target = outPath ?? set.files.model;
  atomicWriteFile(target, encodeGraph(graph, set.manifest.producer.version));
  return target;
}
