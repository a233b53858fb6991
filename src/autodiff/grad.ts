import { GraphBuilder, makeArray, Value } from '../onnx/builder.js';
import { formsFor, type GraphForms } from '../onnx/forms.js';
import type { AttrValue, Node } from '../onnx/ir.js';
import { fullLike, sum } from '../onnx/ops/index.js';
import { getVjp, NON_DIFFERENTIABLE, type VjpContext } from './registry.js';
import './rules/index.js';

/**
 * Reverse-mode differentiation on a graph under construction: appends to `b` the nodes that
 * compute d(loss)/d(w) for every w in `wrt`, and returns them by name.
 *
 * Only nodes on a path from some w to the loss are differentiated (unused branches emit
 * nothing); contributions that meet at a value are added once, by `sum` (a tree of Adds).
 */
export function gradients(
  b: GraphBuilder,
  loss: Value,
  wrt: Value[],
  forms: GraphForms = formsFor('cpu'),
): Map<string, Value> {
  const nodes = [...b.nodes];
  // Values that depend on some w (forward sweep).
  const active = new Set(wrt.map((w) => w.name));
  for (const n of nodes) {
    if (NON_DIFFERENTIABLE.has(n.op)) continue;
    if (n.inputs.some((i) => active.has(i))) n.outputs.forEach((o) => o && active.add(o));
  }
  if (!active.has(loss.name)) throw new Error(`loss ${loss.name} does not depend on any parameter`);
  // Values the loss depends on through active values (backward sweep).
  const wanted = new Set([loss.name]);
  const onPath: Node[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (!n.outputs.some((o) => wanted.has(o))) continue;
    onPath.push(n);
    n.inputs.forEach((i) => active.has(i) && wanted.add(i));
  }

  const contributions = new Map<string, Value[]>();
  const add = (name: string, g: Value) => {
    const list = contributions.get(name) ?? [];
    list.push(g);
    contributions.set(name, list);
  };
  const total = (name: string): Value | null => {
    const list = contributions.get(name);
    if (!list?.length) return null;
    if (list.length > 1) contributions.set(name, [b.scope(`grad:${name}`, () => sum(list))]);
    return contributions.get(name)![0];
  };

  add(loss.name, b.constant(makeArray(loss.dtype, [1]), loss.dtype, loss.shape.map(Number), 'seed'));
  for (const n of onPath) {
    const gradOutputs = n.outputs.map((o) => (o ? total(o) : null));
    if (gradOutputs.every((g) => g === null)) continue;
    const rule = getVjp(n.op);
    if (!rule) throw new Error(`no VJP rule for op ${n.op} (node ${n.name})`);
    const ctx = vjpContext(b, n, gradOutputs, forms);
    b.scope(`grad:${n.name}`, () =>
      rule(ctx).forEach((make, i) => {
        const x = ctx.inputs[i];
        if (!make || !x || !wanted.has(x.name) || !active.has(x.name)) return;
        const g = make();
        if (g.dtype !== x.dtype)
          throw new Error(`VJP of ${n.op}: gradient dtype ${g.dtype} for ${x.name}:${x.dtype}`);
        add(x.name, g);
      }),
    );
  }

  const out = new Map<string, Value>();
  for (const w of wrt) {
    const g = total(w.name);
    out.set(w.name, g ?? b.scope(`grad:${w.name}`, () => fullLike(w, 0))); // a parameter the loss does not reach
  }
  return out;
}

/** The view of one forward node that its VJP rule gets. */
export function vjpContext(
  b: GraphBuilder,
  node: Node,
  gradOutputs: (Value | null)[],
  forms: GraphForms = formsFor('cpu'),
): VjpContext {
  return {
    b,
    node,
    // an omitted optional input ('') stays a hole: rules test it before use
    inputs: node.inputs.map((i) => (i === '' ? undefined : b.value(i))) as Value[],
    outputs: node.outputs.map((o) => b.value(o)),
    gradOutputs,
    get g(): Value {
      if (!gradOutputs[0]) throw new Error(`${node.op} ${node.name}: no gradient reaches output 0`);
      return gradOutputs[0];
    },
    forms,
    attr<T extends AttrValue>(name: string, fallback?: T): T {
      const v = node.attrs[name];
      if (v === undefined) {
        if (fallback === undefined) throw new Error(`${node.op} ${node.name}: attribute ${name} missing`);
        return fallback;
      }
      return (typeof v === 'object' && v !== null && 'float' in v ? v.float : v) as T;
    },
    constInput(i: number): number[] {
      const t = b.initializers.get(node.inputs[i]);
      if (!t) throw new Error(`${node.op} ${node.name}: input ${i} must be a constant for differentiation`);
      return Array.from(t.data as ArrayLike<number | bigint>, Number);
    },
  };
}
