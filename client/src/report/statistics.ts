// The report's statistics, written once: every comparison of two cells is paired on the images both
// have a value for, with a seeded bootstrap 95% interval (images resampled whole); every share has
// its Clopper-Pearson interval; a claim is "established" only when its interval lies wholly on the
// claim's side of its null (or target), "contradicted" when wholly on the other side, otherwise
// "not established (n = …)". Numerics are in shared/src/stats (checked against SciPy).
import {
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  type BootstrapInterval,
  bootstrap,
  bootstrapEach,
  clopperPearsonInterval,
  signTest,
} from '@rs-arena/shared/stats';
import { mean, median } from '../summary.js';

export { bootstrap, bootstrapEach };

/** A share with its two-sided 95% Clopper-Pearson interval. */
export interface Share {
  k: number;
  n: number;
  p: number | null;
  lo: number;
  hi: number;
}

export function share(k: number, n: number): Share {
  const [lo, hi] = clopperPearsonInterval(k, n);
  return { k, n, p: n ? k / n : null, lo, hi };
}

/** One image's value in two cells: `a` the reference, `b` the one compared with it. */
export interface Pair {
  image: number | string;
  a: number;
  b: number;
}

export interface PairedComparison {
  /** Pairs (an image may give one pair per cell when cells are pooled). */
  pairs: number;
  /** Distinct images: what the bootstrap resamples. */
  images: number;
  meanA: number;
  meanB: number;
  medianA: number;
  medianB: number;
  /** mean b ÷ mean a over the pairs (the paper's statistic is the mean), with its interval. */
  ratioOfMeans: BootstrapInterval;
  /** Median over pairs of b ÷ a, with its interval. */
  medianRatio: BootstrapInterval;
  /** Pairs where b > a and b < a, and the sign test's two-sided p-value. */
  higher: number;
  lower: number;
  signP: number;
}

const ratioOfMeans = (ps: readonly Pair[]) => ps.reduce((s, p) => s + p.b, 0) / ps.reduce((s, p) => s + p.a, 0);
const medianOfRatios = (ps: readonly Pair[]) => median(ps.map((p) => p.b / p.a)) ?? NaN;

/** The paired comparison of `pairs` (finite, a > 0), or null when there are none. */
export function paired(pairs: Pair[]): PairedComparison | null {
  const ps = pairs.filter((p) => Number.isFinite(p.a) && Number.isFinite(p.b) && p.a > 0);
  if (ps.length === 0) return null;
  const opts = { cluster: (p: Pair) => p.image };
  const higher = ps.filter((p) => p.b > p.a).length;
  const lower = ps.filter((p) => p.b < p.a).length;
  const intervals = bootstrapEach(ps, { ratioOfMeans, medianRatio: medianOfRatios }, opts);
  return {
    pairs: ps.length,
    images: new Set(ps.map((p) => p.image)).size,
    meanA: mean(ps.map((p) => p.a))!,
    meanB: mean(ps.map((p) => p.b))!,
    medianA: median(ps.map((p) => p.a))!,
    medianB: median(ps.map((p) => p.b))!,
    ratioOfMeans: intervals.ratioOfMeans,
    medianRatio: intervals.medianRatio,
    higher,
    lower,
    signP: signTest(higher, lower),
  };
}

/** Pairs from two record sets, on the images both have a (finite) value for. */
export function pairOn<R>(a: readonly R[], b: readonly R[], image: (r: R) => number | string, value: (r: R) => number | null): Pair[] {
  const byImage = new Map<number | string, number>();
  for (const r of a) {
    const v = value(r);
    if (v !== null && Number.isFinite(v)) byImage.set(image(r), v);
  }
  const out: Pair[] = [];
  for (const r of b) {
    const v = value(r);
    const va = byImage.get(image(r));
    if (v !== null && Number.isFinite(v) && va !== undefined) out.push({ image: image(r), a: va, b: v });
  }
  return out;
}

export type Verdict = 'established' | 'contradicted' | 'not established' | 'no data';

/** What a claim says of a statistic: that it lies above or below `bound` (its null or target). */
/**
 * Which side of `bound` the claim puts the interval: above, below, or within [1/bound, bound] (an
 * equivalence claim on a ratio, "the same" within a factor).
 */
export interface Claim {
  side: 'above' | 'below' | 'within';
  bound: number;
}

/**
 * Fewest images a bootstrap interval decides on: below it the resamples take too few distinct
 * values for a percentile interval to mean anything (3 images give 10 resamples in all), so the
 * verdict is "not established" whatever the interval says. Shares use exact intervals: no minimum.
 */
const MIN_BOOTSTRAP_IMAGES = 10;

/**
 * Established when the whole interval is on the claim's side of the bound, contradicted when wholly
 * on the other (for `within`: wholly inside [1/bound, bound], or wholly outside it); a bootstrap
 * interval on fewer than MIN_BOOTSTRAP_IMAGES images establishes nothing.
 */
export function decide(iv: { lo: number; hi: number; clusters?: number } | null, claim: Claim): Verdict {
  if (!iv || Number.isNaN(iv.lo) || Number.isNaN(iv.hi)) return 'no data';
  if (iv.clusters !== undefined && iv.clusters < MIN_BOOTSTRAP_IMAGES) return 'not established';
  if (claim.side === 'above') return iv.lo > claim.bound ? 'established' : iv.hi < claim.bound ? 'contradicted' : 'not established';
  if (claim.side === 'within') {
    const lo = 1 / claim.bound;
    return iv.lo >= lo && iv.hi <= claim.bound ? 'established' : iv.hi < lo || iv.lo > claim.bound ? 'contradicted' : 'not established';
  }
  return iv.hi < claim.bound ? 'established' : iv.lo > claim.bound ? 'contradicted' : 'not established';
}

/** A claim made of several cells: contradicted if any cell contradicts it, established if every cell establishes it. */
function combine(verdicts: Verdict[]): Verdict {
  const known = verdicts.filter((v) => v !== 'no data');
  if (known.length === 0) return 'no data';
  if (known.includes('contradicted')) return 'contradicted';
  return known.every((v) => v === 'established') && known.length === verdicts.length ? 'established' : 'not established';
}

/**
 * The verdict of a claim made of cells (combine) and the n it rests on: contradicted, the fewest
 * images among the contradicting cells; otherwise the fewest among all cells.
 */
export function combined(cells: { verdict: Verdict; n: number }[]): { verdict: Verdict; n: number } {
  const verdict = combine(cells.map((c) => c.verdict));
  const deciding = verdict === 'contradicted' ? cells.filter((c) => c.verdict === 'contradicted') : cells;
  return { verdict, n: deciding.length ? Math.min(...deciding.map((c) => c.n)) : 0 };
}

const num = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : x > 0 ? '∞' : x < 0 ? '−∞' : '–');

/** "×1.234 [1.090, 1.450]". */
export const fmtRatio = (iv: { value: number; lo: number; hi: number }) => `×${num(iv.value)} [${num(iv.lo)}, ${num(iv.hi)}]`;
/** "13/15 = 87% [60%, 98%]". */
export const fmtShare = (s: Share) =>
  `${s.k}/${s.n} = ${s.p === null ? '–' : `${(100 * s.p).toFixed(0)}%`} [${(100 * s.lo).toFixed(0)}%, ${(100 * s.hi).toFixed(0)}%]`;
/** A paired comparison in one line: means, medians, the ratio of means with its interval, n. */
export const fmtPaired = (c: PairedComparison) =>
  `mean ${num(c.meanA)} → ${num(c.meanB)} (median ${num(c.medianA)} → ${num(c.medianB)}), ratio of means ${fmtRatio(c.ratioOfMeans)}, paired on ${c.images} images${c.pairs !== c.images ? ` (${c.pairs} pairs)` : ''}, higher on ${c.higher} of ${c.pairs}`;

/** How every interval in the report was made, said once where the findings are. */
export const METHOD = `Intervals: 95%. Comparisons are paired on the images both cells attacked successfully; their interval is a percentile bootstrap of ${BOOTSTRAP_RESAMPLES.toLocaleString('en')} resamples of the images (seed ${BOOTSTRAP_SEED}); shares have Clopper-Pearson intervals. A claim is established only when its interval excludes the null or target, contradicted when its interval lies wholly on the other side, otherwise not established; a bootstrap on fewer than ${MIN_BOOTSTRAP_IMAGES} images establishes nothing.`;
