// The paper's formulas for randomized smoothing (Maho, Furon, Le Merrer, ICASSP 2022; Cohen et al. 2019).
import { betaIncInv } from './beta.js';
import { binomSf } from './binomial.js';
import { normalQuantile } from './normal.js';

function checkSigma(sigma: number): void {
  if (!(sigma >= 0 && Number.isFinite(sigma))) throw new RangeError(`sigma must be a finite number ≥ 0, got ${sigma}`);
}
function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
}
function checkProb(p: number, name: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${p}`);
}

/** Eq. (2): R = σ·Φ⁻¹(p) for a lower bound p on π_A; 0 when p ≤ ½ (nothing is certified: abstain). */
export function certifiedRadius(sigma: number, pLower: number): number {
  checkSigma(sigma);
  checkProb(pLower, 'pLower');
  return pLower <= 0.5 ? 0 : sigma * normalQuantile(pLower);
}

/** The largest radius CERTIFY can give with n samples at level α: all n agree, p = α^{1/n}. */
export function maxCertifiableRadius(sigma: number, n: number, alpha: number): number {
  checkSigma(sigma);
  checkN(n);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  return certifiedRadius(sigma, alpha ** (1 / n));
}

/** ñ = 1 + ⌊n/2⌋: the votes a class needs to win a majority of n. */
export function nTilde(n: number): number {
  checkN(n);
  return 1 + Math.floor(n / 2);
}

/** I⁻¹_{Pa}(ñ, ñ): the per-vote error rate at which the majority of n errs with probability Pa. */
export function levelQuantile(n: number, Pa: number): number {
  checkProb(Pa, 'Pa');
  const m = nTilde(n);
  return betaIncInv(Pa, m, m);
}

/** Eq. (5): x_a is adversarial at level Pa when π₀(x_a) < 1 − I⁻¹_{Pa}(ñ, ñ). */
export function eq5Threshold(n: number, Pa: number): number {
  return 1 - levelQuantile(n, Pa);
}

/** Eq. (6): ‖x_o − x_a‖ ≥ R(x_o, σ) + σ·Φ⁻¹(I⁻¹_{Pa}(ñ, ñ)). */
export function eq6Bound(radius: number, sigma: number, n: number, Pa: number): number {
  checkSigma(sigma);
  if (!(radius >= 0)) throw new RangeError(`radius must be ≥ 0, got ${radius}`);
  return radius + sigma * normalQuantile(levelQuantile(n, Pa));
}

/**
 * Probability that a majority of n independent votes is wrong when each is wrong with probability
 * pWrong, in the paper's binary model: at least ñ = 1 + ⌊n/2⌋ wrong votes. (For odd n this is
 * P[Bin(n, pWrong) ≥ ñ] = I_{pWrong}(ñ, ñ) exactly; for even n a tie of n/2 counts as not wrong.)
 */
export function probMajorityWrong(pWrong: number, n: number): number {
  checkProb(pWrong, 'pWrong');
  checkN(n);
  return binomSf(nTilde(n) - 1, n, pWrong);
}

/** The paper's §4.1 shortcut: adversarial at level Pa when at least ⌈n·Pa⌉ of n micro-decisions are wrong. */
export function shortcutThreshold(n: number, Pa: number): number {
  checkN(n);
  checkProb(Pa, 'Pa');
  // n·Pa is computed in floating point (0.8·10 = 8.000000000000002); snap near-integers first.
  const v = n * Pa;
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-9 * Math.max(1, v) ? r : Math.ceil(v);
}

/** Probability that the shortcut declares a point adversarial when each vote is wrong with probability pWrong. */
export function shortcutPassProbability(pWrong: number, n: number, Pa: number): number {
  checkProb(pWrong, 'pWrong');
  return binomSf(shortcutThreshold(n, Pa) - 1, n, pWrong);
}
