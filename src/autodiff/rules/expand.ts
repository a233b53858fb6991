import { registerVjp } from '../registry.js';
import { sumTo } from './util.js';

registerVjp('Expand', ({ inputs: [x], g }) => [() => sumTo(g, x.shape), null]);
