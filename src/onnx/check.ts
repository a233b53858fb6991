import type { Graph } from './ir.js';

/**
 * Structural check of an emitted graph: every value defined once, nodes in topological order,
 * every node input defined before use, typed graph inputs and outputs, outputs produced.
 * Returns the list of problems (empty = fine).
 */
export function checkGraph(g: Graph): string[] {
  const problems: string[] = [];
  const defined = new Set<string>();
  const define = (name: string, where: string) => {
    if (defined.has(name)) problems.push(`${name} defined twice (${where})`);
    defined.add(name);
  };
  for (const v of g.inputs) {
    define(v.name, 'graph input');
    if (!v.dtype || v.shape.some((d) => d === undefined)) problems.push(`graph input ${v.name} is untyped`);
  }
  for (const name of g.initializers.keys()) define(name, 'initializer');
  for (const n of g.nodes) {
    for (const i of n.inputs)
      if (i !== '' && !defined.has(i))
        problems.push(`node ${n.name} (${n.op}) uses ${i} before it is defined`);
    for (const o of n.outputs) if (o !== '') define(o, `node ${n.name}`);
  }
  for (const v of g.outputs) {
    if (!defined.has(v.name)) problems.push(`graph output ${v.name} is never produced`);
    if (!v.dtype) problems.push(`graph output ${v.name} is untyped`);
  }
  return problems;
}

export function assertGraphOk(g: Graph): void {
  const p = checkGraph(g);
  if (p.length) throw new Error(`graph ${g.name} is malformed:\n  ${p.slice(0, 20).join('\n  ')}`);
}
