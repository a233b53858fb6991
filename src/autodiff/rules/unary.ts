// VJPs of the pointwise unary ops.
import { add, cast, div, exp, greater, mul, neg, sub } from '../../onnx/ops/index.js';
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
// A multiply by the float mask, not Where: ORT's Where is slow on the CPU, and a bool mask gets
// bool Transposes from WebGPU's NHWC layout pass, which have no WebGPU kernel.
registerVjp('Relu', ({ outputs: [y], g }) => [() => mul(g, cast(greater(y, 0), g.dtype))]);
// erf' = 2/sqrt(pi) exp(-x^2), the constant folded into the exponent: exp(ln(2/sqrt(pi)) - x^2)
registerVjp('Erf', ({ inputs: [x], g }) => [
  () => mul(g, exp(sub(Math.log(2 / Math.sqrt(Math.PI)), mul(x, x)))),
]);
// softplus' = sigmoid(x) = 1 / (1 + exp(-x))
registerVjp('Softplus', ({ inputs: [x], g }) => [() => div(g, add(exp(neg(x)), 1))]);
