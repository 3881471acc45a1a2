// The regularized incomplete beta function I_x(a, b) and its inverse. Accuracy matters for a, b up
// to ~1e6 (CERTIFY runs with n = 100,000), where the textbook prefactor x^a(1−x)^b / B(a,b) computed
// from three log-gammas of size ~1e6 would lose ~1e-10. So the prefactor is written around the
// mode x₀ = a/(a+b) with Stirling's corrections, which keeps full precision.

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Stirling's correction δ(x) = lnΓ(x) − [(x − ½)ln x − x + ½ln 2π], for x ≥ 10 by its asymptotic series. */
function stirlingCorrection(x: number): number {
  if (x >= 10) {
    const x2 = 1 / (x * x);
    // Bernoulli-number series: 1/12x − 1/360x³ + 1/1260x⁵ − 1/1680x⁷ + 1/1188x⁹ − 691/360360x¹¹
    return (1 / x) * (1 / 12 + x2 * (-1 / 360 + x2 * (1 / 1260 + x2 * (-1 / 1680 + x2 * (1 / 1188 + x2 * (-691 / 360360))))));
  }
  return logGamma(x) - ((x - 0.5) * Math.log(x) - x + LN_SQRT_2PI);
}

/** ln Γ(x) for x > 0: Stirling's series at x ≥ 10, shifted there by Γ(x+1) = xΓ(x) below. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingCorrection(x);
  let shift = 1;
  let y = x;
  while (y < 10) {
    shift *= y;
    y += 1;
  }
  return logGamma(y) - Math.log(shift);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b), with the large terms cancelled analytically. */
export function logBeta(a: number, b: number): number {
  checkShape(a, b, 'logBeta');
  if (a < 10 || b < 10) return logGamma(a) + logGamma(b) - logGamma(a + b);
  const s = a + b;
  return (
    LN_SQRT_2PI + (a - 0.5) * Math.log(a / s) + b * Math.log(b / s) - 0.5 * Math.log(b) + stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(s)
  );
}

/**
 * ln[x^a (1−x)^b / B(a,b)]. For large a, b it is
 * a·ln(x/x₀) + b·ln((1−x)/(1−x₀)) + ½ln(ab/(2π(a+b))) − [δ(a) + δ(b) − δ(a+b)], x₀ = a/(a+b),
 * with the logs taken through log1p of the (small) relative offsets from the mode.
 */
export function logBetaPrefactor(x: number, a: number, b: number): number {
  if (a < 10 || b < 10) return a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  const s = a + b;
  const x0 = a / s;
  const t1 = a * Math.log1p((x - x0) / x0);
  const t2 = b * Math.log1p((x0 - x) / (1 - x0));
  return t1 + t2 + 0.5 * Math.log((a * b) / (2 * Math.PI * s)) - (stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(s));
}

/** The continued fraction of I_x(a,b)·a·B(a,b)/(x^a(1−x)^b) (modified Lentz), best for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < tiny ? tiny : d;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    // even step: m(b−m)x / ((a+2m−1)(a+2m))
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    f *= d * c;
    // odd step: −(a+m)(a+b+m)x / ((a+2m)(a+2m+1))
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) return f;
  }
  return f; // not reached for a, b ≤ 1e8: the fraction converges in O(√max(a,b)) steps
}

/**
 * I_x(a,b) and 1 − I_x(a,b), each computed directly on the side where it is small, so that both
 * tails keep their relative precision (binomial tails of 1e-300 stay exact).
 */
export function betaIncPair(x: number, a: number, b: number): { value: number; complement: number } {
  checkShape(a, b, 'betaInc');
  if (!(x >= 0 && x <= 1)) throw new RangeError(`betaInc: x must be in [0, 1], got ${x}`);
  if (x === 0) return { value: 0, complement: 1 };
  if (x === 1) return { value: 1, complement: 0 };
  if (x < (a + 1) / (a + b + 2)) {
    const value = (Math.exp(logBetaPrefactor(x, a, b)) * betaContinuedFraction(x, a, b)) / a;
    return { value, complement: 1 - value };
  }
  const complement = (Math.exp(logBetaPrefactor(1 - x, b, a)) * betaContinuedFraction(1 - x, b, a)) / b;
  return { value: 1 - complement, complement };
}

/** The regularized incomplete beta function I_x(a, b). */
export function betaInc(x: number, a: number, b: number): number {
  return betaIncPair(x, a, b).value;
}

/** 1 − I_x(a, b), accurate when it is tiny. */
export function betaIncComplement(x: number, a: number, b: number): number {
  return betaIncPair(x, a, b).complement;
}

/**
 * The x in [0,1] with I_x(a,b) = p. Newton steps from a normal-approximation start, kept inside a
 * bracket that shrinks with every evaluation (bisection whenever Newton leaves it), so it always
 * converges. Works on whichever tail (p or 1 − p) is smaller, for precision.
 */
export function betaIncInv(p: number, a: number, b: number): number {
  checkShape(a, b, 'betaIncInv');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`betaIncInv: p must be in [0, 1], got ${p}`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  const upper = p > 0.5; // solve 1 − I_x = 1 − p instead
  const target = upper ? 1 - p : p;
  const g = (x: number) => {
    const r = betaIncPair(x, a, b);
    return upper ? target - r.complement : r.value - target; // increasing in x either way
  };
  let lo = 0;
  let hi = 1;
  let x = initialGuess(p, a, b);
  const logB = logBeta(a, b);
  for (let i = 0; i < 300; i++) {
    const f = g(x);
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    const density = Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logB);
    let next = x - f / density;
    if (!(next > lo && next < hi) || !Number.isFinite(next)) next = 0.5 * (lo + hi);
    if (Math.abs(next - x) <= 4e-16 * x || hi - lo <= 4e-16 * Math.max(lo, 1e-300)) return next;
    x = next;
  }
  return x;
}

/** A start for the inverse: the normal approximation of Beta(a, b), or the small-x power law. */
function initialGuess(p: number, a: number, b: number): number {
  const s = a + b;
  const mean = a / s;
  const sd = Math.sqrt((a * b) / (s * s * (s + 1)));
  // Φ⁻¹ by a coarse rational formula is enough for a start.
  const q = p < 0.5 ? p : 1 - p;
  const t = Math.sqrt(-2 * Math.log(q));
  let z = t - (2.30753 + 0.27061 * t) / (1 + 0.99229 * t + 0.04481 * t * t);
  if (p < 0.5) z = -z;
  let x = mean + z * sd;
  if (!(x > 0 && x < 1)) {
    // Tails: I_x(a,b) ≈ x^a / (a·B(a,b)) near 0, symmetric near 1.
    x = p < 0.5 ? Math.exp((Math.log(p * a) + logBeta(a, b)) / a) : 1 - Math.exp((Math.log((1 - p) * b) + logBeta(a, b)) / b);
  }
  return Math.min(Math.max(x, 1e-300), 1 - 1e-16);
}

function checkShape(a: number, b: number, fn: string): void {
  if (!(a > 0 && Number.isFinite(a))) throw new RangeError(`${fn}: a must be a positive finite number, got ${a}`);
  if (!(b > 0 && Number.isFinite(b))) throw new RangeError(`${fn}: b must be a positive finite number, got ${b}`);
}
