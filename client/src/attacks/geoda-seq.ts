// GeoDA deciding through the sequential test: its boundary searches keep only points the test
// accepted at level P_a, while its probes are single raw answers (see geoda.ts) 0.3·dist wide, so
// that they reach across the band where a randomized boundary is blurred; the bisection stops at
// 2% of the radius, since every step near the boundary costs the test many repeats.
import { geoda } from './geoda.js';
import { decidedByTest } from './sequential-attack.js';

export const geodaSeq = decidedByTest(
  'geoda-seq',
  'GeoDA deciding through the sequential test (raw probes 0.3·dist wide): returns a point confirmed adversarial at level Pa',
  geoda,
  { probeFactor: 0.3, tolerance: 0.02 },
);
