// DepthToSpace (DCR) and SpaceToDepth only move elements, and each is the other's inverse, so each
// one's gradient is the other applied to the output gradient.
import { depthToSpace, spaceToDepth } from '../../onnx/ops/index.js';
import { registerVjp } from '../registry.js';

registerVjp('DepthToSpace', ({ g, attr, node, forms }) => {
  if (attr<string>('mode', 'DCR') !== 'DCR')
    throw new Error(`DepthToSpace ${node.name}: gradient only for mode DCR`);
  return [() => spaceToDepth(g, attr<number>('blocksize'), forms.spaceToDepth)];
});

registerVjp('SpaceToDepth', ({ g, attr }) => [() => depthToSpace(g, attr<number>('blocksize'))]);
