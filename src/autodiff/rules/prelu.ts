import { greater, mul, where } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

// y = x for x > 0, slope * x otherwise; the slope is broadcast to x, so its gradient is summed back.
registerVjp('PRelu', ({ inputs: [x, slope], gradOutputs: [g], needs, b }) => {
  const positive = greater(x!, 0);
  const zero = b.scalar(0, x!.dtype);
  return [
    needs[0] ? where(positive, g!, mul(g!, slope!)) : null,
    needs[1] ? sumTo(where(positive, zero, mul(g!, x!)), slope!.shape) : null,
  ];
});
