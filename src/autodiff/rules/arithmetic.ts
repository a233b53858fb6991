// VJPs of the broadcasting arithmetic ops: Add, Sub, Mul, Div, Sum.
import { div, mul, neg } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

registerVjp('Add', ({ inputs: [a, b], gradOutputs: [g], needs }) => [
  needs[0] ? sumTo(g!, a!.shape) : null,
  needs[1] ? sumTo(g!, b!.shape) : null,
]);

registerVjp('Sub', ({ inputs: [a, b], gradOutputs: [g], needs }) => [
  needs[0] ? sumTo(g!, a!.shape) : null,
  needs[1] ? sumTo(neg(g!), b!.shape) : null,
]);

registerVjp('Sum', ({ inputs, gradOutputs: [g], needs }) =>
  inputs.map((x, i) => (needs[i] ? sumTo(g!, x!.shape) : null)),
);

registerVjp('Mul', ({ inputs: [a, b], gradOutputs: [g], needs }) => [
  needs[0] ? sumTo(mul(g!, b!), a!.shape) : null,
  needs[1] ? sumTo(mul(g!, a!), b!.shape) : null,
]);

// d(a/b)/db = -a/b^2 = -out/b
registerVjp('Div', ({ inputs: [a, b], outputs: [out], gradOutputs: [g], needs }) => [
  needs[0] ? sumTo(div(g!, b!), a!.shape) : null,
  needs[1] ? sumTo(neg(div(mul(g!, out), b!)), b!.shape) : null,
]);
