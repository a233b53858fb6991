// VJPs of the broadcasting arithmetic ops: Add, Sub, Mul, Div, Sum.
import { div, mul, neg } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { geluProductGradient } from './gelu.js';
import { sumTo } from './util.js';

registerVjp('Add', ({ inputs: [a, b], g }) => [() => sumTo(g, a.shape), () => sumTo(g, b.shape)]);

registerVjp('Sub', ({ inputs: [a, b], g }) => [() => sumTo(g, a.shape), () => sumTo(neg(g), b.shape)]);

registerVjp('Sum', ({ inputs, g }) => inputs.map((x) => () => sumTo(g, x.shape)));

registerVjp(
  'Mul',
  (ctx) =>
    geluProductGradient(ctx) ?? [
      () => sumTo(mul(ctx.g, ctx.inputs[1]), ctx.inputs[0].shape),
      () => sumTo(mul(ctx.g, ctx.inputs[0]), ctx.inputs[1].shape),
    ],
);

// d(a/b)/db = -a/b^2 = -out/b
registerVjp('Div', ({ inputs: [a, b], outputs: [out], g }) => [
  () => sumTo(div(g, b), a.shape),
  () => sumTo(neg(div(mul(g, out), b)), b.shape),
]);
