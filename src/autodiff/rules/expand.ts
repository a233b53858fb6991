import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

registerVjp('Expand', ({ inputs: [x], gradOutputs: [g] }) => [sumTo(g!, x!.shape), null]);
