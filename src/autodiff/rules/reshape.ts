// Ops that only rearrange the same elements: the gradient is reshaped back.
import { reshape } from '../../onnx/ops/index.js';
import { registerVjp, type VjpRule } from '../registry.js';

const backToInputShape: VjpRule = ({ inputs: [x], g }) => [() => reshape(g, x.shape), null];
registerVjp('Reshape', backToInputShape);
registerVjp('Squeeze', backToInputShape);
registerVjp('Unsqueeze', backToInputShape);
registerVjp('Flatten', backToInputShape);
