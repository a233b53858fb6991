export * from './elementwise.js';
export * from './shape.js';
export * from './nn.js';
export { broadcastShapes } from './broadcast.js';
export * from './upconv.js';
export * from './shifted-taps-conv.js';
