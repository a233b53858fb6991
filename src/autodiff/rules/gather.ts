// Gather / GatherElements: scatter the gradient back, adding where an index repeats.
import { expandAs, fullLike, reshape, scatterElements } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('GatherElements', ({ inputs: [x, idx], g, attr }) => [
  () => scatterElements(fullLike(x, 0), idx, g, attr<number>('axis', 0), 'add'),
  null,
]);

// Gather along an axis = GatherElements with the indices broadcast over the other axes.
registerVjp('Gather', ({ inputs: [x, idx], g, attr, node }) => {
  const axis = attr<number>('axis', 0);
  if (idx.rank !== 1) throw new Error(`Gather ${node.name}: gradient only for 1-D indices`);
  const view = x.shape.map((_, i) => (i === axis ? idx.shape[0] : 1));
  return [() => scatterElements(fullLike(x, 0), expandAs(reshape(idx, view), g), g, axis, 'add'), null];
});
