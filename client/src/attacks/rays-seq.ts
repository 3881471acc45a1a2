// RayS deciding through the sequential test: a ray is kept only when the test accepts its point at
// the current best radius, and the radius bisection trusts only accepted points. The bisection
// stops at 0.01 (not 1e-3): each step near the boundary costs the test many repeats, and a
// hundredth of the radius is below the RS noise band the decision is blurred over anyway.
import { rays } from './rays.js';
import { decidedByTest } from './sequential-attack.js';

export const raysSeq = decidedByTest(
  'rays-seq',
  'RayS deciding through the sequential test: returns a point confirmed adversarial at level Pa on fresh answers',
  rays,
  { tolerance: 0.01 },
);
