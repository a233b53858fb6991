import { where } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

registerVjp('Where', ({ inputs: [cond, a, bv], g, b }) => [
  null,
  () => sumTo(where(cond, g, b.scalar(0, g.dtype)), a.shape),
  () => sumTo(where(cond, b.scalar(0, g.dtype), g), bv.shape),
]);
