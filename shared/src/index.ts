export * from './manifest.js';
export * from './rng.js';
export * from './tensor.js';
export * from './idx.js';
export * from './catalog.js';
export * from './image.js';
export * from './noise.js';
