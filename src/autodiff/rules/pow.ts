import { mul, pow, sub } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

// d x^p / dx = p x^(p-1); the exponent is treated as a constant (our graphs never learn it).
registerVjp('Pow', ({ inputs: [x, p], g, node }) => [
  () => sumTo(mul(g, mul(p, pow(x, sub(p, 1)))), x.shape),
  () => {
    throw new Error(`Pow ${node.name}: gradient with respect to the exponent is not supported`);
  },
]);
