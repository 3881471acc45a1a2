// GeoDA (Rahmati, Moosavi-Dezfooli, Frossard & Dai, CVPR 2020), L2, untargeted. Near the decision
// boundary the boundary is flat to first order, so its normal at a boundary point x_b can be
// estimated from the signs of random probes x_b + δ·η, and the closest boundary point lies along
// that normal from x0. Each iteration i:
//  1. N_i probes η drawn as standard Gaussians in the k×k lowest frequencies of the 2-D DCT (per
//     channel): the normal of natural-image classifiers lives mostly there, so far fewer probes
//     are needed than in pixel space;
//  2. ĝ ← ĝ + mean_j φ_j·η_j, φ = ±1 (adversarial or not) minus its mean (HSJA's baseline, a
//     variance reduction: it only matters when x_b is off the boundary, as under noise). The
//     estimates of all iterations are summed, as the official code does: the normal changes slowly;
//  3. from x0, go along ĝ until adversarial, then bisect back to the boundary: the new x_b.
// The query split N_i ∝ μ^(−2i/3) (the paper's optimal allocation for a fixed total), with the
// number of iterations chosen so that N_0 falls in [50, 80] as in the official code, planned over
// the budget left after initialisation; when the plan is spent and budget remains, iterations
// continue with the last N_i. The start is the official one: Gaussian noise grown from x0.
//
// On a SequentialView (geoda-seq) the boundary searches decide through the sequential test, while
// the probes are single raw top-1 answers of the attacker's oracle: their mean, baseline removed,
// estimates the gradient of P[adversarial] itself (each answer is an unbiased draw of it), which is
// what the normal of a randomized boundary is; the probes are then made wider than the RS noise.
import { z } from 'zod';
import type { CountingOracle } from '../oracle.js';
import { SequentialView } from '../oracle-sequential.js';
import { lowFrequencyImage } from '../dct.js';
import { clip, dist2, norm2, normalize } from '../vec.js';
import { Tracker, blendSearch, defineAttack, noiseStart, withBudget } from './attack.js';

export const GeodaOptions = z.strictObject({
  subspace: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('side k of the low-frequency DCT subspace (k×k per channel); default a third of the image side (official 75 of 224)'),
  probeFactor: z.number().positive().default(0.005).describe('probe radius δ = probeFactor·dist(x_b, x0)'),
  mu: z.number().gt(0).lt(1).default(0.6).describe('μ of the query allocation N_i ∝ μ^(−2i/3); official 0.6'),
  firstProbesMin: z.number().int().min(2).default(50).describe("the first iteration's probes are planned at least this many; official 50"),
  firstProbesMax: z.number().int().min(2).default(80).describe("the first iteration's probes are planned at most this many; official 80"),
  searchReserve: z.number().int().nonnegative().default(25).describe('queries set aside per iteration for the boundary search when planning; official 25'),
  tolerance: z.number().positive().default(1e-3).describe('boundary bisection stops when the radius interval is below tolerance·radius'),
  maxGrowth: z.number().int().nonnegative().default(6).describe('radius growth steps (×1.5 each) allowed when x0 + dist·ĝ is not adversarial'),
  maxIterations: z.number().int().positive().default(10_000).describe('most iterations'),
  initTrials: z.number().int().positive().default(100).describe('noise draws allowed to find a starting adversarial'),
});
export type GeodaOptions = z.output<typeof GeodaOptions>;

/**
 * Probes per iteration for a total of `queries`: N_i ∝ μ^(−2i/3) over T iterations, T chosen so
 * that N_0 lies in `first` (the official opt_query_iteration, iterated to a fixed point).
 */
export function geodaSchedule(queries: number, mu: number, first: [number, number], reserve: number): number[] {
  const plan = (T: number) => {
    const total = Math.max(0, queries - reserve * T);
    const coefs = Array.from({ length: T }, (_, i) => mu ** ((-2 * i) / 3));
    const sum = coefs.reduce((a, b) => a + b, 0);
    return coefs.map((c) => Math.round((total * c) / sum));
  };
  let T = Math.max(1, Math.round(queries / 500));
  for (let guard = 0; guard < 100; guard++) {
    const q = plan(T);
    if (q[0] > first[1]) T++;
    else if (q[0] < first[0] && T > 1) T--;
    else return q.filter((n) => n >= 2);
    // Oscillating between two T (neither fits): take the larger N_0 ≤ first[1].
    if (guard > 50 && plan(T)[0] <= first[1]) return plan(T).filter((n) => n >= 2);
  }
  return plan(T).filter((n) => n >= 2);
}

export const geoda = defineAttack({
  name: 'geoda',
  summary: 'GeoDA (Rahmati et al. 2020): boundary normal from sign probes in a low-frequency DCT subspace, geometric step from x0',
  metric: () => 'l2',
  options: GeodaOptions,
  async run(oracle: CountingOracle, x0: Float32Array, o: GeodaOptions, common) {
    const t = new Tracker(oracle, x0, common, 'l2');
    const shape = oracle.inputShape;
    const [c, h] = shape;
    const k = o.subspace ?? Math.max(1, Math.round(h / 3));
    const d = x0.length;
    const [lo, hi] = oracle.range;
    // Probes are answered once each: under the sequential test, by the attacker's own oracle.
    const raw = oracle instanceof SequentialView ? oracle : null;

    const along = (g: Float32Array, r: number) =>
      clip(
        Float32Array.from(x0, (v, j) => v + r * g[j]),
        lo,
        hi,
      );

    return withBudget(t, 'geoda', async () => {
      oracle.phase('init');
      if (await t.check1(x0)) return 'misclassified';
      const start = (await growingNoiseStart(t, o.initTrials)) ?? (await noiseStart(t, o.initTrials));
      if (!start) return 'init-failed';
      let xb = start;
      const plan = geodaSchedule(oracle.remaining, o.mu, [o.firstProbesMin, o.firstProbesMax], o.searchReserve);
      const grad = new Float32Array(d);
      for (let it = 0; it < o.maxIterations; it++) {
        const dist = dist2(xb, x0);
        if (dist === 0) return 'converged';
        const n = Math.min(plan[Math.min(it, plan.length - 1)] ?? 2, raw ? raw.rawRemaining - 1 : oracle.remaining - 1);
        if (n < 2) return 'budget';
        // 1. probes in the low-frequency subspace, clipped, with the direction recomputed from what was asked.
        oracle.phase('gradient');
        // On an 8-bit endpoint at least √d grid steps, or the probes snap back to x_b (as in hsja.ts).
        const delta = oracle.gridStep === undefined ? o.probeFactor * dist : Math.max(o.probeFactor * dist, Math.sqrt(d) * oracle.gridStep);
        const probes = new Float32Array(n * d);
        const dirs: Float32Array[] = [];
        const coeffs = new Float32Array(c * k * k);
        for (let j = 0; j < n; j++) {
          const eta = normalize(lowFrequencyImage(t.rng.fillNormal(coeffs), shape, k));
          const p = probes.subarray(j * d, (j + 1) * d);
          for (let q = 0; q < d; q++) p[q] = Math.min(hi, Math.max(lo, xb[q] + delta * eta[q]));
        }
        const adv = raw ? Array.from(await raw.raw(probes, n), (l) => l >= 0 && l !== oracle.originalLabel) : await t.check(probes, n);
        // Directions from the probes as asked: clipped, and snapped on a grid endpoint (encoding.ts).
        for (let j = 0; j < n; j++) dirs.push(Float32Array.from(probes.subarray(j * d, (j + 1) * d), (v, q) => (v - xb[q]) / delta));
        // 2. accumulate the baseline-corrected sign estimate.
        const mean = adv.reduce((s, a) => s + (a ? 1 : -1), 0) / n;
        const allSame = Math.abs(mean) === 1;
        for (let j = 0; j < n; j++) {
          const w = allSame ? mean : (adv[j] ? 1 : -1) - mean;
          const u = dirs[j];
          for (let q = 0; q < d; q++) grad[q] += (w * u[q]) / n;
        }
        if (norm2(grad) === 0) continue;
        const g = normalize(grad);
        // 3. along ĝ from x0: grow the radius from the current distance until adversarial, then bisect.
        oracle.phase('boundary-search');
        let hiR = dist;
        let found: Float32Array | null = null;
        for (let s = 0; s <= o.maxGrowth; s++, hiR *= 1.5) {
          const x = along(g, hiR);
          if (await t.check1(x)) {
            found = x;
            break;
          }
        }
        if (!found) continue; // the next iteration's probes refine ĝ
        let loR = 0;
        while (hiR - loR > o.tolerance * hiR) {
          const r = (loR + hiR) / 2;
          const x = along(g, r);
          if (await t.check1(x)) {
            hiR = r;
            found = x;
          } else loR = r;
        }
        // The next boundary point is this one, on the boundary (the tracker may hold a closer
        // probe, but a probe lies off the boundary, where the next probes would all agree).
        xb = found;
      }
      return 'iterations';
    });
  },
});

/**
 * The official start: x0 + k·s·N(0, I) for k = 1, 2, … (s = 0.02 per pixel) until adversarial,
 * then (unless `search` is off) a blend search to the boundary. Closer than uniform noise, which matters to GeoDA: its
 * first-order model of the boundary only holds near it. At most `trials` queries.
 */
export async function growingNoiseStart(t: Tracker, trials: number, scale = 0.02, search = true): Promise<Float32Array | null> {
  const [lo, hi] = t.oracle.range;
  t.oracle.phase('init');
  const noise = t.rng.fillNormal(new Float32Array(t.x0.length));
  for (let k = 1; k <= trials && t.oracle.remaining > 0; k++) {
    const x = clip(
      Float32Array.from(t.x0, (v, j) => v + scale * k * noise[j]),
      lo,
      hi,
    );
    if (await t.check1(x)) return search ? blendSearch(t, x, 0.001, 'init') : x;
  }
  return null;
}
