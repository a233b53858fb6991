// Weights into a model.onnx's initializers, on bytes: browser-safe (the viewer exports the
// model.onnx of weights it fine-tuned); load.ts does the same for a set's file.
import { decodeGraph, encodeGraph } from '../onnx/serialize.js';

/**
 * `modelBytes` (a model.onnx) with every named parameter's initializer replaced by its value
 * (graph layout; the same number of values); 'unused' ones (in the state dict, in no graph) are
 * skipped. `name` names the model in errors.
 */
export function bakeWeights(
  modelBytes: Uint8Array,
  params: readonly { name: string; kind?: string }[],
  values: ReadonlyMap<string, Float32Array>,
  producerVersion: string,
  name = 'model.onnx',
): Uint8Array {
  const graph = decodeGraph(modelBytes);
  for (const p of params) {
    if (p.kind === 'unused') continue;
    const value = values.get(p.name);
    if (!value) throw new Error(`bakeWeights: no value for ${p.name}`);
    const init = graph.initializers.get(p.name);
    if (!init) throw new Error(`bakeWeights: ${name} has no initializer ${p.name}`);
    if (value.length !== init.data.length)
      throw new Error(
        `bakeWeights: ${p.name} has ${value.length} values, the model needs ${init.data.length}`,
      );
    graph.initializers.set(p.name, { dtype: 'float32', dims: init.dims, data: value });
  }
  return encodeGraph(graph, producerVersion);
}
