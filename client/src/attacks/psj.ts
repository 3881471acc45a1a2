// PopSkipJump-style HopSkipJump for a randomized classifier (after Simon-Gabriel, Sheikh & Krause,
// ICML 2021), untargeted, L2. What changes from HSJA (hsja.ts), and why:
//  - Boundary search ("PopBinary"): one answer at a point of a randomized classifier is a coin
//    flip with P[adversarial] = p(x). Along the segment x(τ) = x0 + τ·(x_adv − x0), p is modelled
//    as e + (1 − 2e)·σ((τ − τ*)/s), with a grid posterior over the midpoint τ* and the width s.
//    Each round asks single raw answers at the posterior's quantiles of τ*, until its central 80%
//    is narrower than 1/gridSize or the search's query cap. The result is τ* (p = ½) and s.
//  - Gradient: at the p = ½ point, where answers are most informative, HSJA's baseline-corrected
//    sign estimate from single raw answers (each an unbiased draw of p, so the mean estimates the
//    direction of ∇p), with probes δ = probeFactor·dist wide: PopSkipJump's √d/gridSize, far wider
//    than HSJA's dist/d, so that they reach across the band where the boundary is blurred.
//  - Decisions that keep a point (the step along the gradient, the point at level P_a on the
//    fitted curve) go through the sequential test (oracle-sequential.ts): the attack returns the
//    best point its test accepted at level P_a, with error ≤ α.
// Every answer, raw or sequential, is a counted top-1 query of the attacker's CountingOracle.
import { z } from 'zod';
import type { CountingOracle } from '../oracle.js';
import { SequentialOracle, type SequentialView, sequentialView } from '../oracle-sequential.js';
import { axpy, clip, dist2, lerp, normalize } from '../vec.js';
import { Tracker, defineAttack, withBudget } from './attack.js';
import { growingNoiseStart } from './geoda.js';
import { decidedByTest } from './sequential-attack.js';

export const PsjOptions = z.strictObject({
  gridSize: z.number().int().min(10).max(2000).default(100).describe('resolution of the boundary search along the segment; PopSkipJump 100'),
  probeFactor: z.number().positive().optional().describe("probe radius δ = probeFactor·dist; default √d/gridSize (PopSkipJump's δ)"),
  initEvals: z.number().int().min(2).default(100).describe('probes at iteration t: min(initEvals·√t, maxEvals); HSJA 100'),
  maxEvals: z.number().int().min(2).default(10_000).describe('most probes per gradient estimate; HSJA 10,000'),
  searchQueries: z.number().int().min(4).default(60).describe('raw answers one boundary search may ask'),
  searchBatch: z.number().int().positive().default(6).describe('raw answers per round of the boundary search'),
  maxHalvings: z.number().int().nonnegative().default(6).describe('halvings of the step size before giving up on this gradient'),
  maxIterations: z.number().int().positive().default(1000).describe('most iterations'),
  initTrials: z.number().int().positive().default(40).describe('uniform-noise draws tried for a first point accepted at level Pa'),
});
export type PsjOptions = z.output<typeof PsjOptions>;

/** Widths s tried by the boundary model, in units of the segment (fractions of τ). */
const WIDTHS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3];
/** Floor of the answer error the model allows (a wrong answer far from τ* must not be fatal). */
const ERROR = 0.02;

/** The posterior of (τ*, s) along one segment, updated answer by answer. */
export class BoundaryModel {
  readonly taus: Float64Array;
  private readonly logPost: Float64Array;

  constructor(readonly gridSize: number) {
    this.taus = Float64Array.from({ length: gridSize + 1 }, (_, i) => i / gridSize);
    this.logPost = new Float64Array(this.taus.length * WIDTHS.length);
  }

  static p(tau: number, mid: number, width: number): number {
    return ERROR + (1 - 2 * ERROR) / (1 + Math.exp(-(tau - mid) / width));
  }

  update(tau: number, adversarial: boolean): void {
    for (let i = 0; i < this.taus.length; i++) {
      for (let k = 0; k < WIDTHS.length; k++) {
        const p = BoundaryModel.p(tau, this.taus[i], WIDTHS[k]);
        this.logPost[i * WIDTHS.length + k] += Math.log(adversarial ? p : 1 - p);
      }
    }
  }

  /** Marginal posterior of τ* (normalised) and the posterior mean of s. */
  private marginal(): { m: Float64Array; width: number } {
    const max = this.logPost.reduce((a, b) => Math.max(a, b), -Infinity);
    const m = new Float64Array(this.taus.length);
    let total = 0;
    let width = 0;
    for (let i = 0; i < this.taus.length; i++) {
      for (let k = 0; k < WIDTHS.length; k++) {
        const w = Math.exp(this.logPost[i * WIDTHS.length + k] - max);
        m[i] += w;
        width += w * WIDTHS[k];
        total += w;
      }
    }
    for (let i = 0; i < m.length; i++) m[i] /= total;
    return { m, width: width / total };
  }

  /** τ at the posterior quantiles `qs` of τ*, the 80% interval's width, and the mean s. */
  summary(qs: number[]): { at: number[]; spread: number; width: number; median: number } {
    const { m, width } = this.marginal();
    const quantile = (q: number) => {
      let acc = 0;
      for (let i = 0; i < m.length; i++) if ((acc += m[i]) >= q) return this.taus[i];
      return 1;
    };
    return { at: qs.map(quantile), spread: quantile(0.9) - quantile(0.1), width, median: quantile(0.5) };
  }
}

/** The attack proper; `psj` adds the final confirmation (sequential-attack.ts). */
const psjCore = defineAttack({
  name: 'psj',
  summary: 'PopSkipJump-style HSJA core: boundary model along the segment, wide raw probes, steps decided by the sequential test',
  metric: () => 'l2',
  options: PsjOptions,
  async run(oracle: CountingOracle, x0: Float32Array, o: PsjOptions, common) {
    // Run through `psj`, the oracle is already its SequentialView (the test's options are psj's).
    const view = sequentialView(oracle);
    const t = new Tracker(view, x0, common, 'l2');
    const d = x0.length;
    const [lo, hi] = oracle.range;
    const probeFactor = o.probeFactor ?? Math.sqrt(d) / o.gridSize;
    const Pa = view.sequential.test.params.Pa;
    const margin = view.sequential.test.params.margin;
    const isAdv = (l: number) => l >= 0 && l !== oracle.originalLabel;
    const half = new SequentialOracle(oracle, oracle.originalLabel, { Pa: 0.5, margin: 0.25, alpha: 0.1, beta: 0.1, maxRepeats: 30 }, (b, k) => view.raw(b, k));

    /** PopBinary between x0 (τ = 0) and `adv` (τ = 1): the p = ½ point's τ and the width s. */
    const boundary = async (adv: Float32Array) => {
      view.phase('boundary-search');
      const model = new BoundaryModel(o.gridSize);
      let asked = 0;
      const qs = Array.from({ length: o.searchBatch }, (_, i) => (i + 0.5) / o.searchBatch);
      for (;;) {
        const s = model.summary(qs);
        if ((asked > 0 && s.spread <= 1 / o.gridSize) || asked >= o.searchQueries) return s;
        const k = Math.min(s.at.length, view.rawRemaining);
        if (k <= 0) return s;
        const batch = new Float32Array(k * d);
        for (let j = 0; j < k; j++) lerp(x0, adv, s.at[j], batch.subarray(j * d, (j + 1) * d));
        const labels = await view.raw(batch, k);
        for (let j = 0; j < k; j++) model.update(s.at[j], isAdv(labels[j]));
        asked += k;
      }
    };

    return withBudget(t, 'psj', async () => {
      view.phase('init');
      if (await t.check1(x0)) return 'misclassified';
      // A first point accepted at level P_a: Gaussian noise grown from x0 (closer than uniform
      // noise, which RS often still labels correctly), then uniform noise, a few at a time.
      let adv = await growingNoiseStart(t, o.initTrials, 0.05, false);
      // Structured guesses when noise keeps the label (RS often labels all noise alike): the
      // negative, black, white, and the image flipped or transposed.
      if (!adv) adv = await firstAccepted(t, structuredGuesses(x0, oracle.inputShape, lo, hi));
      for (let done = 0; done < o.initTrials && !adv; done += 5) {
        const noise = t.rng.fillUniform(new Float32Array(5 * d), lo, hi);
        const ok = await t.check(noise, 5);
        const i = ok.indexOf(true);
        if (i >= 0) adv = noise.slice(i * d, (i + 1) * d);
      }
      if (!adv) return 'init-failed';
      let failures = 0;
      for (let step = 1; step <= o.maxIterations; step++) {
        // 1. Where p = ½ along x0 → adv, and a point at level P_a on the fitted curve.
        const fit = await boundary(adv);
        const len = dist2(adv, x0);
        const xb = lerp(x0, adv, fit.median);
        // p(τ) = Pa + margin/2 on the model: inside the test's indifference zone's upper half.
        const target = Math.min(0.99, Pa + margin / 2);
        const tauLevel = Math.min(1, fit.median + fit.width * Math.log(target / (1 - target)));
        view.phase('level-check');
        if (tauLevel < 1 && dist2(lerp(x0, adv, tauLevel), x0) < t.bestDistance()) await t.check1(lerp(x0, adv, tauLevel));
        const dist = dist2(xb, x0);
        if (dist === 0 || len === 0) return 'converged';
        // 2. The gradient of p at the p = ½ point from raw answers.
        const evals = Math.min(Math.round(o.initEvals * Math.sqrt(step)), o.maxEvals, view.rawRemaining);
        if (evals < 2) return 'budget';
        view.phase('gradient');
        const grad = await gradient(view, xb, evals, probeFactor * dist, t, isAdv);
        // 3. Geometric step from the p = ½ point. The step's end only has to be adversarial more
        //    often than not (the next boundary search starts from it), so a looser sequential test
        //    at level ½ decides it, far cheaper near the boundary than the test at level P_a.
        view.phase('step');
        let eps = dist / Math.sqrt(step);
        let moved = false;
        for (let h = 0; h <= o.maxHalvings; h++, eps /= 2) {
          const c = clip(axpy(xb, eps, grad), lo, hi);
          if ((await half.predict(c, 1))[0] !== oracle.originalLabel) {
            adv = c;
            moved = true;
            break;
          }
        }
        if (moved) failures = 0;
        else if (++failures >= 5) return 'converged';
        // The best accepted point may be closer than the step's end: search from there next.
        if (t.best && dist2(t.best, x0) < dist2(adv, x0)) adv = t.best;
      }
      return 'iterations';
    });
  },
});

/** HSJA's estimate: mean of (φ − mean φ)·u over Gaussian probes of radius δ, u recomputed after clipping. */
async function gradient(view: SequentialView, x: Float32Array, evals: number, delta: number, t: Tracker, isAdv: (l: number) => boolean): Promise<Float32Array> {
  const d = x.length;
  const [lo, hi] = view.range;
  const probes = new Float32Array(evals * d);
  const dirs = new Float32Array(evals * d);
  for (let k = 0; k < evals; k++) {
    const u = dirs.subarray(k * d, (k + 1) * d);
    normalize(t.rng.fillNormal(u), u);
    const p = probes.subarray(k * d, (k + 1) * d);
    axpy(x, delta, u, p);
    clip(p, lo, hi);
    for (let j = 0; j < d; j++) u[j] = (p[j] - x[j]) / delta;
  }
  const labels = await view.raw(probes, evals);
  const phi = Array.from(labels, (l) => (isAdv(l) ? 1 : -1));
  const mean = phi.reduce((a, b) => a + b, 0) / evals;
  const allSame = Math.abs(mean) === 1;
  const grad = new Float32Array(d);
  for (let k = 0; k < evals; k++) {
    const w = allSame ? mean : phi[k] - mean;
    const u = dirs.subarray(k * d, (k + 1) * d);
    for (let j = 0; j < d; j++) grad[j] += (w * u[j]) / evals;
  }
  return normalize(grad, grad);
}

/** The first of `candidates` the sequential test accepts (asked in one batch), or null. */
async function firstAccepted(t: Tracker, candidates: Float32Array[]): Promise<Float32Array | null> {
  const k = Math.min(candidates.length, t.oracle.remaining);
  if (k <= 0) return null;
  const ok = await t.check(concat(candidates.slice(0, k)), k);
  const i = ok.indexOf(true);
  return i >= 0 ? candidates[i] : null;
}

function structuredGuesses(x0: Float32Array, shape: readonly [number, number, number], lo: number, hi: number): Float32Array[] {
  const [c, h, w] = shape;
  const remap = (f: (ch: number, i: number, j: number) => number) => {
    const out = new Float32Array(x0.length);
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[ch * h * w + i * w + j] = f(ch, i, j);
    return out;
  };
  const at = (ch: number, i: number, j: number) => x0[ch * h * w + i * w + j];
  return [
    x0.map((v) => lo + hi - v),
    new Float32Array(x0.length).fill(lo),
    new Float32Array(x0.length).fill(hi),
    remap((ch, i, j) => at(ch, h - 1 - i, j)),
    remap((ch, i, j) => at(ch, i, w - 1 - j)),
    ...(h === w ? [remap((ch, i, j) => at(ch, j, i))] : []),
  ];
}

export const psj = decidedByTest(
  'psj',
  'PopSkipJump-style HSJA for randomized classifiers (Simon-Gabriel et al. 2021): returns a point confirmed adversarial at level Pa',
  psjCore,
);

/** The images one after another, as one batch. */
function concat(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of images) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}
