import { slice } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// Each input gets its own slab of the output gradient along the concatenation axis.
registerVjp('Concat', ({ inputs, gradOutputs: [g], needs, attr }) => {
  const axis = attr<number>('axis');
  let offset = 0;
  return inputs.map((x, i) => {
    const n = x!.dim(axis);
    const start = offset;
    offset += n;
    return needs[i] ? slice(g!, [start], [start + n], [axis]) : null;
  });
});
