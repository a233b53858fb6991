import { transpose } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('Transpose', ({ g, attr }) => {
  const perm = attr<number[]>('perm');
  return [
    () =>
      transpose(
        g,
        perm.map((_, i) => perm.indexOf(i)),
      ),
  ];
});
