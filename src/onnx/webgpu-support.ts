// What ONNX Runtime 1.30's WebGPU execution provider cannot run as our graphs would use it, each
// with how it fails (found on the H200 and on Mesa's lavapipe, ORT profiles naming each node's
// provider). A node it cannot run either fails the session or falls back to the CPU provider,
// which costs two device copies per node. Graphs emitted with the 'webgpu' forms
// (src/onnx/forms.ts) must contain none of these; tests check it.
import type { Graph, Node } from './ir.js';

export interface WebGpuLimitation {
  op: string;
  /** the limitation applies to this node (default: every node of the op) */
  applies?: (n: Node) => boolean;
  reason: string;
}

/** Storage buffers one WebGPU shader may bind (WebGPU's default maxStorageBuffersPerShaderStage). */
export const WEBGPU_STORAGE_BUFFERS = 16;

export const WEBGPU_LIMITATIONS: readonly WebGpuLimitation[] = [
  {
    op: 'MaxPool',
    applies: (n) => n.outputs.length > 1 && n.outputs[1] !== '',
    reason: 'no Indices output ("The Indices output is not supported yet"): the session run fails',
  },
  {
    op: 'Sum',
    reason: 'no WebGPU kernel: placed on the CPU provider, with a device-to-host and a host-to-device copy',
  },
  {
    op: 'SpaceToDepth',
    reason: 'no WebGPU kernel: placed on the CPU provider, with two device copies',
  },
  {
    op: 'Split',
    applies: (n) => n.outputs.length + 1 > WEBGPU_STORAGE_BUFFERS,
    reason: `one shader binds the input and every output: more than ${WEBGPU_STORAGE_BUFFERS - 1} outputs exceed the ${WEBGPU_STORAGE_BUFFERS} storage buffers per shader and the run fails`,
  },
];

/** Every node of a graph the WebGPU provider cannot run as it stands, with the reason. */
export function webgpuIncompatibilities(graph: Graph): string[] {
  return graph.nodes.flatMap((n) =>
    WEBGPU_LIMITATIONS.filter((l) => l.op === n.op && (l.applies?.(n) ?? true)).map(
      (l) => `${graph.name}: ${n.op} node ${n.name}: ${l.reason}`,
    ),
  );
}
