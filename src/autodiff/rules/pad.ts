import { slice } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// Constant padding: the gradient is the output gradient with the padding cut off again.
registerVjp('Pad', ({ inputs: [x], g, constInput, attr, node }) => {
  if (attr<string>('mode', 'constant') !== 'constant')
    throw new Error(`Pad ${node.name}: gradient only for constant mode`);
  const pads = constInput(1);
  const r = x.rank;
  const axes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let a = 0; a < r; a++) {
    if (pads[a] === 0 && pads[a + r] === 0) continue;
    if (pads[a] < 0 || pads[a + r] < 0) throw new Error(`Pad ${node.name}: gradient of negative padding`);
    axes.push(a);
    starts.push(pads[a]);
    ends.push(pads[a] + x.dim(a));
  }
  return [() => (axes.length ? slice(g, starts, ends, axes) : g)];
});
