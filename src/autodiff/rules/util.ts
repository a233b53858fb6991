import type { Value } from '../../onnx/builder.js';
import type { Shape } from '../../onnx/ir.js';
import { reduceSum, reshape, squeeze } from '../../onnx/ops/index.js';

/** Undo numpy broadcasting: sum g over the axes along which `shape` was broadcast to g's shape. */
export function sumTo(g: Value, shape: Shape): Value {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  if (!axes.length) return g;
  let r = reduceSum(g, axes, true);
  if (lead > 0)
    r = squeeze(
      r,
      Array.from({ length: lead }, (_, i) => i),
    );
  return r.shape.every((d, i) => d === shape[i]) ? r : reshape(r, shape);
}

/** Axes 2..rank-1 (the spatial axes of an N, C, *S tensor). */
export function spatialAxes(rank: number): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => i + 2);
}

/** A [C] vector viewed as [1, C, 1, ...] to broadcast against an N, C, *S tensor. */
export function channelView(v: Value, rank: number): Value {
  return reshape(v, [1, v.dim(0), ...Array(rank - 2).fill(1)]);
}

/** A value built on first use and shared after: intermediates that several input gradients need. */
export function shared<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}
