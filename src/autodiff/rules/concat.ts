import { slice } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// Each input gets its own slab of the output gradient along the concatenation axis.
registerVjp('Concat', ({ inputs, g, attr }) => {
  const axis = attr<number>('axis');
  const starts = inputs.map((_, i) => inputs.slice(0, i).reduce((n, x) => n + x.dim(axis), 0));
  return inputs.map((x, i) => () => slice(g, [starts[i]], [starts[i] + x.dim(axis)], [axis]));
});
