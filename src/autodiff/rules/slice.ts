import { pad } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

// The gradient of a unit-step slice is the output gradient padded back with zeros.
registerVjp('Slice', ({ inputs: [x], g, constInput, node }) => {
  const starts = constInput(1);
  const ends = constInput(2);
  const axes = node.inputs[3] ? constInput(3) : starts.map((_, i) => i);
  const steps = node.inputs[4] ? constInput(4) : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw new Error(`Slice ${node.name}: gradient only for unit steps`);
  const r = x.rank;
  const pads = Array(2 * r).fill(0);
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + r : a0;
    const n = x.dim(a);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const s = clamp(starts[i]);
    const e = Math.max(s, clamp(ends[i]));
    pads[a] = s;
    pads[a + r] = n - e;
  });
  return [() => pad(g, pads)];
});
