// ReduceSum / ReduceMean: the gradient is spread back evenly over the reduced axes.
import { div, expandAs, reshape } from '../../onnx/ops/index.js';
import type { Dim } from '../../onnx/ir.js';
import { registerVjp, type VjpContext } from '../registry.js';

function spreadBack(ctx: VjpContext, mean: boolean) {
  const { inputs: [x], gradOutputs: [g], attr, constInput, node } = ctx;
  const r = x!.rank;
  const axes = node.inputs[1] ? constInput(1).map((a) => (a < 0 ? a + r : a)) : Array.from({ length: r }, (_, i) => i);
  const keptShape: Dim[] = x!.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const gk = attr<number>('keepdims', 1) ? g! : reshape(g!, keptShape);
  let out = expandAs(gk, x!);
  if (mean) out = div(out, axes.reduce((n, a) => n * x!.dim(a), 1));
  return [out, null];
}

registerVjp('ReduceSum', (ctx) => spreadBack(ctx, false));
registerVjp('ReduceMean', (ctx) => spreadBack(ctx, true));
