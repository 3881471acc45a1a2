// RayS (Chen & Gu, 2020): search over sign vectors s ∈ {±1}^d, the ray x0 + r·s/‖s‖, flipping the
// sign of ever smaller blocks (level k: 2^k blocks) and keeping a flip when the boundary along
// the new ray is closer. Each candidate costs one query at the current best radius (reject if not
// adversarial), then a bisection of the radius to `tolerance`. Deterministic given the oracle,
// like the original; L∞ by construction, with L2 reported as the paper does. The budget is checked
// before every query (the original checks once per block and can overshoot).
import { z } from 'zod';
import type { CountingOracle } from '../oracle.js';
import { Tracker, defineAttack, withBudget } from './attack.js';

export const RaysOptions = z.strictObject({
  tolerance: z.number().positive().default(1e-3).describe('radius bisection stops below this (L2 units along the unit ray); official 1e-3'),
  linSearchRadius: z.number().int().positive().default(10).describe('radii tried (units of ‖s‖) to find a first boundary along a ray; official 10'),
  epsilon: z.number().positive().optional().describe('stop once the L∞ distortion is at or below this (official early stopping); default: never'),
});
export type RaysOptions = z.output<typeof RaysOptions>;

export const rays = defineAttack({
  name: 'rays',
  summary: 'RayS (Chen & Gu 2020): sign-vector ray search flipping ever smaller blocks, L∞ by construction (L2 reported)',
  metric: () => 'linf',
  options: RaysOptions,
  async run(oracle: CountingOracle, x0: Float32Array, o: RaysOptions, common) {
    const t = new Tracker(oracle, x0, common, 'l2');
    const d = x0.length;
    const [lo, hi] = oracle.range;
    const point = (s: Float32Array, r: number) => {
      const scale = r / Math.sqrt(d); // s has norm √d
      const x = new Float32Array(d);
      for (let j = 0; j < d; j++) x[j] = Math.min(hi, Math.max(lo, x0[j] + scale * s[j]));
      return x;
    };

    return withBudget(t, 'rays', async () => {
      oracle.phase('init');
      if (await t.check1(x0)) return 'misclassified';
      let sgn = new Float32Array(d).fill(1);
      let best = Infinity; // radius along the current best ray

      // Radius of the boundary along s, or Infinity when the ray is no better than `best`.
      const search = async (s: Float32Array): Promise<number> => {
        let start = 0;
        let end: number;
        if (best < Infinity) {
          oracle.phase('ray-check');
          if (!(await t.check1(point(s, best)))) return Infinity;
          end = best;
        } else {
          // No boundary yet: the official line search along s at L∞ steps k = 1…linSearchRadius.
          // Clipping saturates x0 + k·s quickly; a point equal to the last one is not asked again.
          oracle.phase('init');
          end = Infinity;
          let previous: Float32Array | null = null;
          for (let k = 1; k <= o.linSearchRadius; k++) {
            const x = point(s, k * Math.sqrt(d));
            if (previous && x.every((v, j) => v === previous![j])) break;
            previous = x;
            if (await t.check1(x)) {
              end = k * Math.sqrt(d);
              break;
            }
          }
          if (end === Infinity) return Infinity;
        }
        oracle.phase('binary-search');
        // On an 8-bit endpoint radii closer than half a grid step per pixel ask the same point twice.
        const tolerance = oracle.gridStep === undefined ? o.tolerance : Math.max(o.tolerance, (Math.sqrt(d) * oracle.gridStep) / 2);
        while (end - start > tolerance) {
          const mid = (start + end) / 2;
          if (await t.check1(point(s, mid))) end = mid;
          else start = mid;
        }
        return end;
      };

      // As the official code: every block flip is a candidate ray, and until one has a boundary each
      // candidate runs the line search (the first is the all-ones ray itself).
      best = await search(sgn);
      let level = 0;
      let block = 0;
      for (;;) {
        const blocks = 2 ** level;
        const size = Math.ceil(d / blocks);
        const from = block * size;
        const to = Math.min(d, from + size);
        const attempt = sgn.slice();
        for (let j = from; j < to; j++) attempt[j] = -attempt[j];
        const r = await search(attempt);
        if (r < best) {
          best = r;
          sgn = attempt;
        }
        block++;
        if (block === blocks || to === d) {
          if (size > 1) level++;
          else if (best === Infinity) return 'init-failed'; // every single-pixel flip tried, no boundary
          block = 0;
        }
        if (o.epsilon !== undefined && t.best && maxAbsDiff(t.best, x0) <= o.epsilon) return 'converged';
      }
    });
  },
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
