import { transpose } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('Transpose', ({ gradOutputs: [g], attr }) => {
  const perm = attr<number[]>('perm');
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [transpose(g!, inverse)];
});
