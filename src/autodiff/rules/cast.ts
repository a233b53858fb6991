import { isFloat } from '../../onnx/dtype.js';
import { cast } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// A cast between float types passes the gradient back in the input's type; from integers, none.
registerVjp('Cast', ({ inputs: [x], g }) => [
  isFloat(x.dtype) && isFloat(g.dtype) ? () => (g.dtype === x.dtype ? g : cast(g, x.dtype)) : null,
]);
