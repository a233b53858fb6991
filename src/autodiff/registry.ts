import type { GraphBuilder, Value } from '../onnx/builder.js';
import type { AttrValue, Node } from '../onnx/ir.js';

/** What a VJP rule sees of one forward node. */
export interface VjpContext {
  b: GraphBuilder;
  node: Node;
  /** forward inputs (null where the optional input was omitted) */
  inputs: (Value | null)[];
  outputs: Value[];
  /** dLoss/dOutput per output; null where no gradient flows back into that output */
  gradOutputs: (Value | null)[];
  /** which input gradients are wanted (others may be returned as null, and should not be built) */
  needs: boolean[];
  attr<T extends AttrValue>(name: string, fallback?: T): T;
  /** The value of an input that is a constant initializer (shapes, axes, slice bounds). */
  constInput(i: number): number[];
}

/** Returns one gradient per forward input (null = none / not needed). */
export type VjpRule = (ctx: VjpContext) => (Value | null)[];

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
