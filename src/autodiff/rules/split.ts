import { concat, fullLike } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// The pieces' gradients, back to back along the split axis (zeros for pieces the loss ignores).
registerVjp('Split', ({ outputs, gradOutputs, attr }) => [
  () =>
    concat(
      gradOutputs.map((g, i) => g ?? fullLike(outputs[i], 0)),
      attr<number>('axis', 0),
    ),
  null,
]);
