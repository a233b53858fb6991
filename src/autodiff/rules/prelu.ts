import { greater, min, mul, where } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

// y = x for x > 0, slope * x otherwise; the slope is broadcast to x, so its gradient is summed back.
// d slope = sum(g * min(x, 0)): ~2x faster in ORT than a Where against a broadcast zero.
registerVjp('PRelu', ({ inputs: [x, slope], gradOutputs: [g], needs, b }) => [
  needs[0] ? where(greater(x!, 0), g!, mul(g!, slope!)) : null,
  needs[1] ? sumTo(mul(g!, min(x!, b.scalar(0, x!.dtype))), slope!.shape) : null,
]);
