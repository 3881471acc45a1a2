// The standard normal distribution: Φ, its upper tail, and Φ⁻¹, to ~1e-15 relative in both tails.
// erfc comes from two expansions that are each accurate where they are used: a positive-term
// series for |x| < 2 (no cancellation) and a continued fraction for the tail.

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT2 = Math.SQRT2;

/** erf(x) = 2x/√π · e^{-x²} · Σ (2x²)^k / (1·3·…·(2k+1)), all terms positive. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200; k++) {
    term *= (2 * x2) / (2 * k + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return ((2 * x) / SQRT_PI) * Math.exp(-x2) * sum;
}

/** erfc(x) for x ≥ 2: e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by modified Lentz. */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / SQRT_PI / f;
}

function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 2) return erfcContinuedFraction(x);
  if (x > -2) return 1 - erfSeries(x);
  return 2 - erfcContinuedFraction(-x);
}

/**
 * e^{-x²/2} without the error that rounding x² would bring for large |x|: x = h + l with h on a
 * 1/16 grid, so h² is exact and e^{-x²/2} = e^{-h²/2}·e^{-l(x+h)/2}.
 */
function expHalfSquare(x: number): number {
  const h = Math.round(x * 16) / 16;
  return Math.exp((-h * h) / 2) * Math.exp((-(x - h) * (x + h)) / 2);
}

/** Mills' ratio (1 − Φ(x))/φ(x) = 1/(x + 1/(x + 2/(x + 3/(x + …)))) for x ≥ 3, by modified Lentz. */
function millsRatio(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    d = x + k * d;
    d = d === 0 ? tiny : d;
    c = x + k / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / f;
}

/** 1 − Φ(x), accurate for large x where 1 − Φ(x) would round to 0. */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 3) return (expHalfSquare(x) / Math.sqrt(2 * Math.PI)) * millsRatio(x);
  if (x <= -3) return 1 - normalSf(-x);
  return 0.5 * erfc(x / SQRT2);
}

/** Φ(x) = P[N(0,1) ≤ x]. */
export function normalCdf(x: number): number {
  return normalSf(-x);
}

function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Φ⁻¹(p). A rational start (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4), then Halley steps on
 * the lower tail: for p > ½ we solve for q = 1 − p (exact in floating point there) by symmetry.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  return p < 0.5 ? -upperQuantile(p) : upperQuantile(1 - p);
}

/** The z > 0 with 1 − Φ(z) = q, for q in (0, ½). */
function upperQuantile(q: number): number {
  const t = Math.sqrt(-2 * Math.log(q));
  let z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  for (let i = 0; i < 8; i++) {
    // Halley on f(z) = sf(z) − q, with f' = −φ(z) and f'' = z·φ(z).
    const pdf = normalPdf(z);
    if (pdf === 0) break;
    const u = (normalSf(z) - q) / pdf;
    const step = u / (1 - (z * u) / 2);
    z += step;
    if (Math.abs(step) <= 1e-15 * Math.abs(z)) break;
  }
  return z;
}
