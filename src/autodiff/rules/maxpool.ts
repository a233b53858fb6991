// MaxPool: route each output gradient to the input element that was the maximum, using the
// Indices output (flat positions into the whole input tensor) of the forward MaxPool.
import { fullLike, reshape } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('MaxPool', ({ b, node, inputs: [x], outputs: [y], gradOutputs: [g] }) => {
  let indices = node.outputs[1] ? b.value(node.outputs[1]) : null;
  if (!indices) indices = b.addNodeOutput(node, 1, { dtype: 'int64', shape: y.shape });
  const zeros = reshape(fullLike(x!, 0), [-1]);
  // reduction 'add': overlapping windows may pick the same input element more than once.
  const flat = b.node(
    'ScatterElements',
    [zeros, reshape(indices, [-1]), reshape(g!, [-1])],
    { axis: 0, reduction: 'add' },
    [{ dtype: x!.dtype, shape: zeros.shape }],
  )[0];
  return [reshape(flat, x!.shape)];
});
