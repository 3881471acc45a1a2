export * from './normal.js';
export * from './beta.js';
export * from './binomial.js';
export * from './smoothing.js';
export * from './resample.js';
