// Softmax along one axis: y = exp(x) / sum(exp(x)), so dx = y * (g - sum(g * y)) along that axis.
import { mul, reduceSum, sub } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('Softmax', ({ outputs: [y], g, attr }) => [
  () => mul(y, sub(g, reduceSum(mul(g, y), [attr<number>('axis', -1)]))),
]);
