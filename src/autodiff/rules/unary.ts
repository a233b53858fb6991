// VJPs of the pointwise unary ops.
import { add, div, exp, greater, mul, neg, sub, where } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('Identity', ({ g }) => [() => g]);
registerVjp('Neg', ({ g }) => [() => neg(g)]);
registerVjp('Exp', ({ outputs: [y], g }) => [() => mul(g, y)]);
registerVjp('Log', ({ inputs: [x], g }) => [() => div(g, x)]);
// d sqrt(x) = 1 / (2 sqrt(x))
registerVjp('Sqrt', ({ outputs: [y], g }) => [() => div(g, mul(y, 2))]);
// d (1/x) = -1/x^2 = -y^2
registerVjp('Reciprocal', ({ outputs: [y], g }) => [() => neg(mul(g, mul(y, y)))]);
registerVjp('Sigmoid', ({ outputs: [y], g }) => [() => mul(g, mul(y, sub(1, y)))]);
registerVjp('Relu', ({ outputs: [y], g, b }) => [() => where(greater(y, 0), g, b.scalar(0, g.dtype))]);
// softplus' = sigmoid(x) = 1 / (1 + exp(-x))
registerVjp('Softplus', ({ inputs: [x], g }) => [() => div(g, add(exp(neg(x)), 1))]);
