// Gather / GatherElements: scatter the gradient back, adding where an index repeats.
import { expandAs, fullLike, reshape } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('GatherElements', ({ inputs: [x, idx], gradOutputs: [g], attr, b }) => {
  const zeros = fullLike(x!, 0);
  const out = b.node(
    'ScatterElements',
    [zeros, idx!, g!],
    { axis: attr<number>('axis', 0), reduction: 'add' },
    [{ dtype: x!.dtype, shape: x!.shape }],
  )[0];
  return [out, null];
});

// Gather along an axis = GatherElements with the indices broadcast over the other axes.
registerVjp('Gather', ({ inputs: [x, idx], gradOutputs: [g], attr, b, node }) => {
  const axis = attr<number>('axis', 0);
  if (idx!.rank !== 1) throw new Error(`Gather ${node.name}: gradient only for 1-D indices`);
  const view = x!.shape.map((_, i) => (i === axis ? idx!.shape[0] : 1));
  const full = expandAs(reshape(idx!, view), g!);
  const out = b.node('ScatterElements', [fullLike(x!, 0), full, g!], { axis, reduction: 'add' }, [
    { dtype: x!.dtype, shape: x!.shape },
  ])[0];
  return [out, null];
});
