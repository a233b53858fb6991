// ReduceSum / ReduceMean: the gradient is spread back evenly over the reduced axes.
import type { Value } from '../../onnx/builder.js';
import { cast, div, expandAs, reshape } from '../../onnx/ops/index.js';
import type { Dim } from '../../onnx/ir.js';
import { registerVjp, type VjpContext } from '../registry.js';

function spreadBack(ctx: VjpContext, mean: boolean) {
  const {
    inputs: [x],
    g,
    attr,
    constInput,
    node,
  } = ctx;
  const r = x.rank;
  const axes = node.inputs[1]
    ? constInput(1).map((a) => (a < 0 ? a + r : a))
    : Array.from({ length: r }, (_, i) => i);
  const keptShape: Dim[] = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const spread = () => expandAs(attr<number>('keepdims', 1) ? g : reshape(g, keptShape), x);
  return [mean ? () => div(spread(), elementsPerMean(x, g, axes)) : spread, null];
}

/** How many elements each mean averaged: static when the reduced axes are, else size(x) / size(mean) at run time. */
function elementsPerMean(x: Value, mean: Value, axes: number[]): Value | number {
  if (axes.every((a) => typeof x.shape[a] === 'number')) return axes.reduce((n, a) => n * x.dim(a), 1);
  const size = (v: Value) => cast(v.b.node('Size', [v], {}, [{ dtype: 'int64', shape: [] }])[0], x.dtype);
  return div(size(x), size(mean));
}

registerVjp('ReduceSum', (ctx) => spreadBack(ctx, false));
registerVjp('ReduceMean', (ctx) => spreadBack(ctx, true));
