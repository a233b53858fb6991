import type { GraphBuilder, Value } from '../onnx/builder.js';
import type { GraphForms } from '../onnx/forms.js';
import type { AttrValue, Node } from '../onnx/ir.js';

/** What a VJP rule sees of one forward node. */
export interface VjpContext {
  b: GraphBuilder;
  node: Node;
  /** Forward inputs by position (undefined where the node omits an optional input). */
  inputs: Value[];
  outputs: Value[];
  /** dLoss/dOutput per output; null where no gradient flows back into that output. */
  gradOutputs: (Value | null)[];
  /** dLoss/dOutput of output 0: what a single-output op's rule needs (throws where it has none). */
  readonly g: Value;
  /** The backend's graph forms (src/onnx/forms.ts). */
  forms: GraphForms;
  attr<T extends AttrValue>(name: string, fallback?: T): T;
  /** The value of an input that is a constant initializer (shapes, axes, slice bounds). */
  constInput(i: number): number[];
}

/**
 * One entry per forward input: a function that builds that input's gradient, called only where
 * the gradient is wanted (so an unneeded gradient costs nothing), or null where none flows.
 */
export type InputGradient = (() => Value) | null;
export type VjpRule = (ctx: VjpContext) => InputGradient[];

const rules = new Map<string, VjpRule>();

/** Ops whose outputs carry no gradient (comparisons, shapes, integer results). */
export const NON_DIFFERENTIABLE = new Set([
  'Shape',
  'ConstantOfShape',
  'Greater',
  'Less',
  'Equal',
  'And',
  'Or',
  'Not',
  'Size',
]);

export function registerVjp(op: string, rule: VjpRule): void {
  if (rules.has(op)) throw new Error(`VJP rule for ${op} registered twice`);
  rules.set(op, rule);
}

export function getVjp(op: string): VjpRule | undefined {
  return rules.get(op);
}

export function registeredOps(): string[] {
  return [...rules.keys()].sort();
}
