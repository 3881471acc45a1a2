// Binomial probabilities through the incomplete beta function (fast and exact-to-rounding for
// n = 100,000), the Clopper-Pearson bounds that Cohen et al.'s CERTIFY uses, and the two-sided exact
// binomial test of their PREDICT.
import { betaIncPair, betaIncInv, logBetaPrefactor } from './beta.js';

function checkN(n: number, fn: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, got ${n}`);
}
function checkP(p: number, fn: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn}: p must be in [0, 1], got ${p}`);
}
function checkK(k: number, fn: string): void {
  if (!Number.isInteger(k)) throw new RangeError(`${fn}: k must be an integer, got ${k}`);
}
function checkAlpha(alpha: number, fn: string): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`${fn}: alpha must be in (0, 1), got ${alpha}`);
}

/** P[X = k] for X ~ Bin(n, p): p^(k+1)q^(n−k+1)/B(k+1, n−k+1) divided by (n+1)pq, via the accurate beta prefactor. */
export function binomPmf(k: number, n: number, p: number): number {
  checkK(k, 'binomPmf');
  checkN(n, 'binomPmf');
  checkP(p, 'binomPmf');
  if (k < 0 || k > n) return 0;
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logBetaPrefactor(p, k + 1, n - k + 1) - Math.log(n + 1) - Math.log(p) - Math.log1p(-p));
}

/** P[X ≤ k] = I_{1−p}(n−k, k+1). */
export function binomCdf(k: number, n: number, p: number): number {
  checkK(k, 'binomCdf');
  checkN(n, 'binomCdf');
  checkP(p, 'binomCdf');
  if (k < 0) return 0;
  if (k >= n) return 1;
  return betaIncPair(p, k + 1, n - k).complement;
}

/** P[X > k] = I_p(k+1, n−k); exact in the far tail (no 1 − cdf cancellation). */
export function binomSf(k: number, n: number, p: number): number {
  checkK(k, 'binomSf');
  checkN(n, 'binomSf');
  checkP(p, 'binomSf');
  if (k < 0) return 1;
  if (k >= n) return 0;
  return betaIncPair(p, k + 1, n - k).value;
}

/**
 * One-sided (1 − α) lower confidence bound on a binomial proportion after k successes in n trials:
 * the α-quantile of Beta(k, n−k+1). This is Cohen et al.'s `proportion_confint(k, n, alpha=2α,
 * method="beta")[0]`, the bound CERTIFY compares with ½.
 */
export function clopperPearsonLower(k: number, n: number, alpha: number): number {
  checkK(k, 'clopperPearsonLower');
  checkN(n, 'clopperPearsonLower');
  checkAlpha(alpha, 'clopperPearsonLower');
  if (k < 0 || k > n) throw new RangeError(`clopperPearsonLower: k must be in [0, n], got ${k} of ${n}`);
  if (k === 0) return 0;
  if (k === n) return alpha ** (1 / n); // I_x(n, 1) = xⁿ
  return betaIncInv(alpha, k, n - k + 1);
}

/** One-sided (1 − α) upper bound: the (1 − α)-quantile of Beta(k+1, n−k). */
export function clopperPearsonUpper(k: number, n: number, alpha: number): number {
  checkK(k, 'clopperPearsonUpper');
  checkN(n, 'clopperPearsonUpper');
  checkAlpha(alpha, 'clopperPearsonUpper');
  if (k < 0 || k > n) throw new RangeError(`clopperPearsonUpper: k must be in [0, n], got ${k} of ${n}`);
  if (k === n) return 1;
  return 1 - clopperPearsonLower(n - k, n, alpha);
}

/**
 * Two-sided exact binomial test p-value, as scipy.stats.binomtest(k, n, p).pvalue defines it: the
 * probability of every outcome no more likely than the one observed (with a relative tolerance of
 * 1e-7 on "no more likely"). Cohen's PREDICT abstains when it exceeds α.
 */
export function binomTestTwoSided(k: number, n: number, p = 0.5): number {
  checkK(k, 'binomTestTwoSided');
  checkN(n, 'binomTestTwoSided');
  checkP(p, 'binomTestTwoSided');
  if (k < 0 || k > n) throw new RangeError(`binomTestTwoSided: k must be in [0, n], got ${k} of ${n}`);
  if (n === 0) return 1;
  const mean = n * p;
  if (k === mean) return 1;
  const d = binomPmf(k, n, p) * (1 + 1e-7);
  if (k < mean) {
    // Outcomes above the mode whose probability is ≤ d: the pmf decreases there, so they are j ≥ ix.
    const ix = firstIndex(Math.ceil(mean), n, (j) => binomPmf(j, n, p) <= d);
    return Math.min(1, binomCdf(k, n, p) + (ix <= n ? binomSf(ix - 1, n, p) : 0));
  }
  // Outcomes below the mode with probability ≤ d: j ≤ ix, the pmf increasing there.
  const ix = lastIndex(0, Math.floor(mean), (j) => binomPmf(j, n, p) <= d);
  return Math.min(1, (ix >= 0 ? binomCdf(ix, n, p) : 0) + binomSf(k - 1, n, p));
}

/** Smallest j in [lo, hi] with pred(j) true (pred monotone false→true), or hi + 1. */
function firstIndex(lo: number, hi: number, pred: (j: number) => boolean): number {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (pred(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** Largest j in [lo, hi] with pred(j) true (pred monotone true→false), or lo − 1. */
function lastIndex(lo: number, hi: number, pred: (j: number) => boolean): number {
  let a = lo - 1;
  let b = hi;
  while (a < b) {
    const mid = Math.ceil((a + b) / 2);
    if (pred(mid)) a = mid;
    else b = mid - 1;
  }
  return a;
}
