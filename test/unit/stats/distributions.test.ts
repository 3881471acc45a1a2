// Statistics pinned to values computed once with SciPy 1.10.1 (Debian python3-scipy, run with
// /usr/bin/python3) and, where SciPy itself is less accurate, with mpmath 1.2.1 at 40 digits.
// Relative tolerance 1e-10 throughout (the bar); most agree to ~1e-14.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalCdf,
  normalSf,
  normalQuantile,
  betaInc,
  betaIncComplement,
  betaIncInv,
  logGamma,
  logBeta,
  binomPmf,
  binomCdf,
  binomSf,
  clopperPearsonLower,
  clopperPearsonUpper,
  binomTestTwoSided,
} from '@rs-arena/shared/stats';

function close(got: number, expected: number, what: string, tol = 1e-10): void {
  const rel = got === expected ? 0 : Math.abs(got - expected) / Math.abs(expected);
  assert.ok(rel <= tol, `${what}: got ${got}, expected ${expected} (relative error ${rel})`);
}

// scipy.stats.norm.ppf(p)
const PPF: [number, number][] = [
  [1e-300, -37.0470962993612],
  [1e-100, -21.273453560965322],
  [1e-20, -9.262340089798409],
  [1e-10, -6.361340902404056],
  [0.001, -3.090232306167813],
  [0.025, -1.9599639845400545],
  [0.3, -0.5244005127080409],
  [0.5, 0.0],
  [0.7, 0.5244005127080407],
  [0.975, 1.959963984540054],
  [0.999, 3.090232306167813],
  [0.9999999999, 6.361340889697422],
  [0.9999999999999999, 8.209536151601387],
];
// scipy.stats.norm.cdf(x)
const CDF: [number, number][] = [
  [-8, 6.22096057427174e-16],
  [-3, 0.0013498980316300933],
  [-1.5, 0.06680720126885807],
  [-0.1, 0.460172162722971],
  [0, 0.5],
  [0.5, 0.6914624612740131],
  [1.96, 0.9750021048517795],
  [3, 0.9986501019683699],
  [8, 0.9999999999999993],
];
// mpmath.ncdf(x), mp.dps = 40: SciPy's norm.cdf(-37) is itself off by 1e-13 there.
const CDF_DEEP: [number, number][] = [
  [-37, 5.7255712225245768227e-300],
  [-20, 2.7536241186062336951e-89],
];
// scipy.stats.norm.sf(x)
const SF: [number, number][] = [
  [5, 2.866515718791933e-7],
  [10, 7.61985302416047e-24],
  [20, 2.7536241186061556e-89],
];
// scipy.special.betainc(a, b, x)
const BETAINC: [number, number, number, number][] = [
  [0.5, 0.5, 0.3, 0.3690101195655454],
  [2, 3, 0.4, 0.5247999999999999],
  [10, 20, 0.3, 0.3640040810719437],
  [99990, 11, 0.9998, 0.010805903159224335],
  [50, 51, 0.3, 2.2060913327165886e-5],
  [100000.0, 1, 0.99993, 0.000911658571340005],
  [3, 100000.0, 2e-5, 0.3233344107288786],
  [200, 300, 0.45, 0.9881463456202636],
];
// Exact, for integer a, b: I_x(a,b) = P[Bin(a+b−1, x) ≥ a], summed in mpmath at 40 digits. SciPy's
// betainc(1e5, 1e5, 0.501) = 0.8144532553270518 is off by 1.4e-10, and betainc(1e5, 1e5, 0.5) gives
// 0.5000000003 where symmetry says exactly ½.
const BETAINC_EXACT: [number, number, number, number][] = [
  [100000, 100000, 0.501, 0.81445325544244303291],
  [100000, 100000, 0.5, 0.5],
  [99990, 11, 0.9998, 0.010805903159990136535],
];
// scipy.special.betaincinv(a, b, p)
const BETAINCINV: [number, number, number, number][] = [
  [2, 3, 0.3, 0.27238394207510536],
  [99990, 11, 0.001, 0.9997586773435924],
  [50, 51, 0.001, 0.3447980064253177],
  [6, 6, 0.8, 0.6221349270230294],
  [26, 26, 0.8, 0.558435789108225],
  [51, 51, 0.8, 0.541695882711443],
  [100000.0, 100000.0, 0.999, 0.5034549478287345],
  [1, 100000.0, 0.5, 6.931447783778943e-6],
  [0.5, 0.5, 1e-10, 2.4674011002723385e-20],
];
// Cohen et al.'s CERTIFY bound: proportion_confint(k, n, alpha=2·0.001, method="beta")[0]
// = scipy.stats.beta.ppf(0.001, k, n − k + 1)
const CLOPPER_PEARSON: [number, number, number][] = [
  [99990, 100000, 0.9997586773435911],
  [50, 100, 0.3447980064253177],
  [99, 100, 0.9113731112960424],
  [9000, 10000, 0.8904097336749064],
  [1, 100, 1.0004953285956376e-5],
  [700, 1000, 0.6534720352918644],
];
// scipy.stats.binomtest(k, n, 0.5).pvalue
const BINOMTEST: [number, number, number][] = [
  [0, 10, 0.001953125],
  [10, 10, 0.001953125],
  [5, 10, 1.0],
  [6, 10, 0.75390625],
  [60, 100, 0.05688793364098088],
  [80, 100, 1.1159089057251951e-9],
  [50, 100, 1.0],
  [61, 100, 0.035200200217704855],
  [500, 1000, 1.0],
  [0, 1, 1.0],
  [1, 1, 1.0],
  [3, 7, 1.0],
];
// scipy.stats.binomtest(k, n, p).pvalue
const BINOMTEST_P: [number, number, number, number][] = [
  [3, 20, 0.3, 0.22041826738070913],
  [12, 20, 0.3, 0.005936084198097523],
  [2, 50, 0.1, 0.23387383994762567],
];
// scipy.stats.binom.sf(k, n, p), .cdf, .pmf
const BINOM_SF: [number, number, number, number][] = [
  [7, 10, 0.6, 0.16728975359999992],
  [39, 50, 0.6, 0.0021971447572466827],
  [79, 100, 0.6, 1.641187790212209e-5],
  [4, 10, 0.6, 0.8337613824],
  [24, 50, 0.6, 0.9426562394577995],
  [49, 100, 0.6, 0.9832383134968385],
  [99000, 100000, 0.5, 0.0],
];
const BINOM_CDF: [number, number, number, number][] = [
  [3, 10, 0.6, 0.05476188160000002],
  [10, 100000, 0.5, 0.0],
  [500, 1000, 0.5, 0.5126125090891801],
];
const BINOM_PMF: [number, number, number, number][] = [
  [3, 10, 0.6, 0.042467327999999964],
  [50000, 100000, 0.5, 0.0025231262141967386],
  [0, 100, 0.3, 3.2344765096247375e-16],
  [100, 100, 0.3, 5.153775207320094e-53],
];

test('Φ⁻¹ matches scipy.stats.norm.ppf from 1e-300 to 1 − 1e-16', () => {
  for (const [p, e] of PPF) close(normalQuantile(p), e, `normalQuantile(${p})`);
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(normalQuantile(1), Infinity);
  assert.equal(normalQuantile(0.5), 0);
});

test('Φ and its upper tail match SciPy, and mpmath in the deep tail', () => {
  for (const [x, e] of CDF) close(normalCdf(x), e, `normalCdf(${x})`);
  for (const [x, e] of CDF_DEEP) close(normalCdf(x), e, `normalCdf(${x})`, 1e-14);
  for (const [x, e] of SF) close(normalSf(x), e, `normalSf(${x})`);
  close(normalSf(37), 5.7255712225245768227e-300, 'normalSf(37)', 1e-14);
  for (const p of [1e-300, 1e-12, 0.01, 0.3]) close(normalCdf(normalQuantile(p)), p, `Φ(Φ⁻¹(${p}))`, 1e-13);
});

test('lnΓ and ln B against known values', () => {
  close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 'lnΓ(½)', 1e-14);
  close(logGamma(10), Math.log(362880), 'lnΓ(10)', 1e-14);
  close(logGamma(1e5), 1051287.7089736569, 'lnΓ(1e5)', 1e-14); // scipy.special.gammaln(1e5)
  close(logBeta(1e5, 1e5), -138633.9270613487, 'lnB(1e5,1e5)', 1e-13); // scipy.special.betaln(1e5, 1e5)
});

test('I_x(a, b) matches scipy.special.betainc, and exact sums for a, b = 1e5', () => {
  for (const [a, b, x, e] of BETAINC) close(betaInc(x, a, b), e, `betaInc(${x}, ${a}, ${b})`);
  for (const [a, b, x, e] of BETAINC_EXACT) close(betaInc(x, a, b), e, `betaInc(${x}, ${a}, ${b})`, 1e-12);
  close(betaIncComplement(0.9998, 99990, 11), 1 - 0.010805903159990136535, 'complement');
  assert.equal(betaInc(0, 2, 3), 0);
  assert.equal(betaInc(1, 2, 3), 1);
});

test('I⁻¹ matches scipy.special.betaincinv and round-trips', () => {
  for (const [a, b, p, e] of BETAINCINV) close(betaIncInv(p, a, b), e, `betaIncInv(${p}, ${a}, ${b})`);
  for (const [a, b] of [
    [3, 7],
    [500, 20],
    [1e5, 1e5],
    [0.3, 4],
  ]) {
    for (const p of [1e-12, 0.001, 0.5, 0.9, 1 - 1e-9]) close(betaInc(betaIncInv(p, a, b), a, b), p, `I(I⁻¹(${p}; ${a},${b}))`, 1e-9);
  }
});

test("Clopper-Pearson lower bounds are CERTIFY's, including k = 0 and k = n", () => {
  for (const [k, n, e] of CLOPPER_PEARSON) close(clopperPearsonLower(k, n, 0.001), e, `CP(${k}, ${n})`);
  assert.equal(clopperPearsonLower(0, 100, 0.001), 0);
  close(clopperPearsonLower(100000, 100000, 0.001), 0.001 ** 1e-5, 'CP(n, n)', 1e-15);
  close(clopperPearsonUpper(50, 100, 0.001), 1 - clopperPearsonLower(50, 100, 0.001), 'upper by symmetry', 1e-15);
  assert.equal(clopperPearsonUpper(100, 100, 0.001), 1);
});

test('two-sided binomial test p-values match scipy.stats.binomtest', () => {
  for (const [k, n, e] of BINOMTEST) close(binomTestTwoSided(k, n), e, `binomtest(${k}, ${n})`);
  for (const [k, n, p, e] of BINOMTEST_P) close(binomTestTwoSided(k, n, p), e, `binomtest(${k}, ${n}, ${p})`);
});

test('binomial pmf, cdf and tail match scipy.stats.binom', () => {
  for (const [k, n, p, e] of BINOM_SF) close(binomSf(k, n, p), e, `binomSf(${k}, ${n}, ${p})`);
  for (const [k, n, p, e] of BINOM_CDF) close(binomCdf(k, n, p), e, `binomCdf(${k}, ${n}, ${p})`);
  for (const [k, n, p, e] of BINOM_PMF) close(binomPmf(k, n, p), e, `binomPmf(${k}, ${n}, ${p})`, 1e-12);
  assert.equal(binomCdf(10, 10, 0.3), 1);
  assert.equal(binomSf(10, 10, 0.3), 0);
  assert.equal(binomPmf(11, 10, 0.3), 0);
});

test('bad arguments throw a RangeError that names them', () => {
  assert.throws(() => normalQuantile(1.5), /p must be in \[0, 1\], got 1.5/);
  assert.throws(() => normalQuantile(NaN), RangeError);
  assert.throws(() => betaInc(0.5, -1, 2), /a must be a positive finite number, got -1/);
  assert.throws(() => betaInc(2, 1, 2), /x must be in \[0, 1\]/);
  assert.throws(() => betaIncInv(0.5, 1, 0), /b must be/);
  assert.throws(() => binomSf(1.5, 10, 0.5), /k must be an integer/);
  assert.throws(() => binomCdf(1, -3, 0.5), /n must be a non-negative integer/);
  assert.throws(() => clopperPearsonLower(5, 10, 0), /alpha must be in \(0, 1\)/);
  assert.throws(() => clopperPearsonLower(11, 10, 0.01), /k must be in \[0, n\]/);
  assert.throws(() => binomTestTwoSided(3, 10, 2), /p must be in \[0, 1\]/);
});
