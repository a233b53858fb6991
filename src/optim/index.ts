export * from './config.js';
export { optimizerGraph, type ParamShape } from './graph.js';
export { referenceStep } from './reference.js';
