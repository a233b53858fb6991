import { reduceSum, reshape } from '../../onnx/ops/index.js';
import type { Dim } from '../../onnx/ir.js';
import { registerVjp } from '../registry.js';

// Nearest up-sampling by integer factors copies each input element into an s1 x s2 x ... block,
// so the gradient sums each block: view [.., H, s1, W, s2] and reduce the factor axes.
registerVjp('Resize', ({ inputs: [x], g, constInput, attr, node }) => {
  if (attr<string>('mode', 'nearest') !== 'nearest')
    throw new Error(`Resize ${node.name}: gradient only for nearest mode`);
  const scales = constInput(2);
  if (scales.some((s) => !Number.isInteger(s)))
    throw new Error(`Resize ${node.name}: gradient only for integer scales`);
  const blocked: Dim[] = [];
  const factorAxes: number[] = [];
  x.shape.forEach((d, i) => {
    blocked.push(d);
    if (scales[i] !== 1) {
      factorAxes.push(blocked.length);
      blocked.push(scales[i]);
    }
  });
  return [() => reduceSum(reshape(g, blocked), factorAxes, false), null, null, null];
});
