import { where } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

registerVjp('Where', ({ inputs: [cond, a, bv], gradOutputs: [g], needs, b }) => {
  const zero = b.scalar(0, g!.dtype);
  return [
    null,
    needs[1] ? sumTo(where(cond!, g!, zero), a!.shape) : null,
    needs[2] ? sumTo(where(cond!, zero, g!), bv!.shape) : null,
  ];
});
