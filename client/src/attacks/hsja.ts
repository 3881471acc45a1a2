// HopSkipJumpAttack (Chen, Jordan & Wainwright, 2020), untargeted, L2 or L∞, following the
// official implementation's schedule: binary search to the boundary, a Monte Carlo estimate of the
// boundary's normal from num_evals = min(initEvals·√t, maxEvals) random probes of radius δ, a
// geometric step search along it, then back to the boundary. Differences, all for a randomized
// oracle: every loop is bounded (the step halving has a floor), nothing is asserted, the probes
// are one batched call, and the result is the best point last verified adversarial.
//
// γ and δ matter a lot under randomized smoothing: the official δ = √d·θ·dist = γ·dist/d (L2) is
// tiny, so the probes sit inside the RS noise (the paper's §3.5). `deltaFactor` replaces it by
// δ = deltaFactor·dist (ART uses 0.01).
import { z } from 'zod';
import type { CountingOracle } from '../oracle.js';
import { axpy, clip, dist2, distInf, lerp, normalize, sign } from '../vec.js';
import { Tracker, defineAttack, noiseStart, withBudget } from './attack.js';

export const HsjaOptions = z.strictObject({
  constraint: z.enum(['l2', 'linf']).default('l2').describe('distance minimised'),
  gamma: z.number().positive().default(1).describe('binary-search threshold θ = γ/(d√d) (L2) or γ/d² (L∞); official 1'),
  initEvals: z.number().int().positive().default(100).describe('gradient probes at step t: min(initEvals·√t, maxEvals); official 100'),
  maxEvals: z.number().int().positive().default(10_000).describe('most gradient probes per step; official 10,000'),
  deltaFactor: z.number().positive().optional().describe('probe radius δ = deltaFactor·dist instead of the official γ-based δ (ART: 0.01)'),
  stepsizeSearch: z
    .enum(['geometric', 'grid'])
    .default('geometric')
    .describe('geometric (official): dist/√t halved until adversarial; grid: the best of 20 log-spaced sizes'),
  maxIterations: z.number().int().positive().default(1000).describe('most iterations'),
  maxHalvings: z.number().int().nonnegative().default(30).describe('floor of the geometric step search: halvings per iteration'),
  maxStepFailures: z.number().int().positive().default(5).describe('iterations in a row without an adversarial step before giving up'),
  initTrials: z.number().int().nonnegative().default(100).describe('uniform-noise draws allowed to find a starting adversarial'),
});
export type HsjaOptions = z.output<typeof HsjaOptions>;

export const hsja = defineAttack({
  name: 'hsja',
  summary: 'HopSkipJumpAttack (Chen et al. 2020): boundary-normal estimates from random probes, geometric steps',
  metric: (o) => o.constraint,
  options: HsjaOptions,
  async run(oracle: CountingOracle, x0: Float32Array, o: HsjaOptions, common) {
    const l2 = o.constraint === 'l2';
    const t = new Tracker(oracle, x0, common, l2 ? 'l2' : 'linf');
    const d = x0.length;
    const [lo, hi] = oracle.range;
    const theta = l2 ? o.gamma / (d * Math.sqrt(d)) : o.gamma / (d * d);
    const dist = (x: Float32Array) => (l2 ? dist2(x, x0) : distInf(x, x0));

    return withBudget(t, 'hsja', async () => {
      oracle.phase('init');
      if (await t.check1(x0)) return 'misclassified';
      let adv = await noiseStart(t, o.initTrials);
      if (!adv) return 'init-failed';
      let failures = 0;
      for (let step = 1; step <= o.maxIterations; step++) {
        adv = await boundary(t, adv, theta, l2);
        const dNow = dist(adv);
        if (dNow === 0) return 'converged';
        const official =
          step === 1 ? 0.1 * (hi - lo) : o.deltaFactor !== undefined ? o.deltaFactor * dNow : l2 ? Math.sqrt(d) * theta * dNow : d * theta * dNow;
        // On an 8-bit endpoint a probe must move pixels by about a grid step, or it snaps back to
        // the point itself and every probe answers the same: at least √d·step in L2 (step in L∞).
        const grid = oracle.gridStep;
        const delta = grid === undefined ? official : Math.max(official, l2 ? Math.sqrt(d) * grid : grid);
        const evals = Math.min(Math.round(o.initEvals * Math.sqrt(step)), o.maxEvals, oracle.remaining - 1);
        if (evals < 2) return 'budget';
        oracle.phase('gradient');
        const grad = await estimateGradient(t, adv, evals, delta, l2);
        oracle.phase('step');
        const next = await stepSearch(t, adv, grad, dNow, step, o);
        if (next) {
          adv = next;
          failures = 0;
        } else if (++failures >= o.maxStepFailures) {
          // No adversarial step even at the floor, several times running: nothing left to gain.
          return 'converged';
        }
        // Otherwise, under a randomized oracle, a new binary search and gradient may well succeed.
        // The official code has no floor and would halve forever.
      }
      return 'iterations';
    });
  },
});

/** Binary search back to the boundary between x0 and adv: blend (L2) or L∞-ball projection (L∞). */
async function boundary(t: Tracker, adv: Float32Array, theta: number, l2: boolean): Promise<Float32Array> {
  t.oracle.phase('binary-search');
  const x0 = t.x0;
  const mid = new Float32Array(adv.length);
  let best = adv;
  // On an 8-bit endpoint, blends closer than half a grid step on every pixel ask the same point twice.
  const grid = t.oracle.gridStep;
  if (l2) {
    let lo = 0;
    let hi = 1;
    const tol = grid === undefined ? theta : Math.max(theta, grid / (2 * distInf(adv, x0)));
    for (let i = 0; i < 60 && hi - lo > tol; i++) {
      const m = (lo + hi) / 2;
      lerp(x0, adv, m, mid);
      if (await t.check1(mid)) {
        hi = m;
        best = mid.slice();
      } else lo = m;
    }
    return best;
  }
  const high = distInf(adv, x0);
  let lo = 0;
  let hi = high;
  const tol = grid === undefined ? Math.min(high * theta, theta) : Math.max(Math.min(high * theta, theta), grid / 2);
  for (let i = 0; i < 60 && hi - lo > tol; i++) {
    const r = (lo + hi) / 2;
    for (let j = 0; j < adv.length; j++) mid[j] = x0[j] + Math.min(r, Math.max(-r, adv[j] - x0[j]));
    if (await t.check1(mid)) {
      hi = r;
      best = mid.slice();
    } else lo = r;
  }
  return best;
}

/**
 * ∇ ≈ mean over probes of φ(x + δu)·u, φ = ±1 (adversarial or not) minus its mean (the official
 * baseline), probes u Gaussian on the sphere (L2) or uniform in the cube (L∞), clipped to the
 * range with u recomputed from the probe as asked (clipped, and snapped on a grid endpoint). If every probe agrees, the mean direction is used, signed.
 */
async function estimateGradient(t: Tracker, x: Float32Array, evals: number, delta: number, l2: boolean): Promise<Float32Array> {
  const d = x.length;
  const [lo, hi] = t.oracle.range;
  const probes = new Float32Array(evals * d);
  const dirs = new Float32Array(evals * d);
  for (let k = 0; k < evals; k++) {
    const u = dirs.subarray(k * d, (k + 1) * d);
    if (l2) {
      t.rng.fillNormal(u);
      normalize(u, u);
    } else t.rng.fillUniform(u, -1, 1);
    const p = probes.subarray(k * d, (k + 1) * d);
    axpy(x, delta, u, p);
    clip(p, lo, hi);
  }
  const adv = await t.check(probes, evals);
  // u from the probes as asked: after clipping, and after the snap to the endpoint's grid when it
  // takes 8-bit images (encoding.ts overwrites each probe with what was sent).
  for (let k = 0; k < evals; k++) {
    const u = dirs.subarray(k * d, (k + 1) * d);
    const p = probes.subarray(k * d, (k + 1) * d);
    for (let j = 0; j < d; j++) u[j] = (p[j] - x[j]) / delta;
  }
  const phi = adv.map((a) => (a ? 1 : -1));
  const mean = phi.reduce((a, b) => a + b, 0) / evals;
  const grad = new Float32Array(d);
  const allSame = mean === 1 || mean === -1;
  for (let k = 0; k < evals; k++) {
    const w = allSame ? mean : phi[k] - mean;
    const u = dirs.subarray(k * d, (k + 1) * d);
    for (let j = 0; j < d; j++) grad[j] += (w * u[j]) / evals;
  }
  return l2 ? normalize(grad, grad) : sign(grad, grad);
}

/** Geometric: ε = dist/√t halved until x + ε·∇ is adversarial (with a floor). Grid: the best of 20 sizes. */
async function stepSearch(t: Tracker, x: Float32Array, grad: Float32Array, dist: number, step: number, o: HsjaOptions): Promise<Float32Array | null> {
  const [lo, hi] = t.oracle.range;
  const candidate = (eps: number) => clip(axpy(x, eps, grad), lo, hi);
  if (o.stepsizeSearch === 'grid') {
    const sizes = Array.from({ length: 20 }, (_, i) => 10 ** (-4 + (4 * i) / 19) * dist);
    const batch = new Float32Array(sizes.length * x.length);
    sizes.forEach((eps, i) => batch.set(candidate(eps), i * x.length));
    const adv = await t.check(batch, sizes.length);
    let best: Float32Array | null = null;
    let bestD = Infinity;
    adv.forEach((a, i) => {
      const c = batch.subarray(i * x.length, (i + 1) * x.length);
      const dd = dist2(c, t.x0);
      if (a && dd < bestD) [best, bestD] = [c.slice(), dd];
    });
    return best;
  }
  let eps = dist / Math.sqrt(step);
  for (let i = 0; i <= o.maxHalvings; i++, eps /= 2) {
    const c = candidate(eps);
    if (await t.check1(c)) return c;
  }
  return null;
}
