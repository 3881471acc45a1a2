// What the report's findings rest on: quantiles as NumPy defines them, the two-sided Clopper-Pearson
// interval of a share, the sign test of a paired comparison, and a seeded percentile bootstrap
// (resampling whole clusters, so pairs that share an image stay together).
//
// Why the percentile bootstrap rather than BCa: the statistics it serves (a ratio of means, a median
// of ratios, an interquartile range) are read by their interval's position against a null (1, or a
// target), and the percentile interval is the one a reader can recompute in three lines; its
// coverage on the sample sizes here is checked in test/unit/stats (a lognormal mean at n = 30).
import { Rng } from '../rng.js';
import { binomTestTwoSided, clopperPearsonLower, clopperPearsonUpper } from './binomial.js';

/** Resamples of every interval the report states (and says so), and their fixed seed. */
export const BOOTSTRAP_RESAMPLES = 10_000;
export const BOOTSTRAP_SEED = 20;

/**
 * The q-quantile of ascending `sorted` by linear interpolation between order statistics
 * (Hyndman & Fan type 7: numpy.percentile's default, R's quantile type 7).
 */
function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The q-quantile of `values` (any order), as numpy.percentile(values, 100·q). */
export const quantile = (values: readonly number[], q: number): number => quantileSorted(Float64Array.from(values).sort(), q);

/** Two-sided Clopper-Pearson interval of k successes in n at `level`: scipy's binomtest(k, n).proportion_ci(level, 'exact'). */
export function clopperPearsonInterval(k: number, n: number, level = 0.95): [number, number] {
  if (!(level > 0 && level < 1)) throw new RangeError(`clopperPearsonInterval: level must be in (0, 1), got ${level}`);
  if (n === 0) return [0, 1];
  const tail = (1 - level) / 2;
  return [clopperPearsonLower(k, n, tail), clopperPearsonUpper(k, n, tail)];
}

/** Two-sided sign test: of `wins + losses` untied pairs, `wins` went one way (ties dropped). */
export function signTest(wins: number, losses: number): number {
  return binomTestTwoSided(wins, wins + losses, 0.5);
}

export interface BootstrapInterval {
  /** The statistic on the data as observed. */
  value: number;
  lo: number;
  hi: number;
  level: number;
  resamples: number;
  seed: number;
  /** Clusters resampled (images). */
  clusters: number;
}

export interface BootstrapOptions<T> {
  resamples?: number;
  seed?: number;
  level?: number;
  /** The resampled unit of an item (default: each item its own). */
  cluster?: (item: T) => string | number;
}

/**
 * Percentile bootstrap interval of `statistic` over `items`, resampling whole clusters with
 * replacement (`cluster(item)`; default: each item its own). `statistic` gets the resampled items;
 * a resample on which it is NaN (e.g. 0/0) counts as +∞, so it widens the interval rather than
 * vanishing from it (±∞ stay as they are).
 */
export function bootstrap<T>(items: readonly T[], statistic: (sample: readonly T[]) => number, options: BootstrapOptions<T> = {}): BootstrapInterval {
  return bootstrapEach(items, { statistic }, options).statistic;
}

/**
 * The intervals of several statistics from one set of resamples: each statistic gets the intervals
 * `bootstrap` would give it alone with the same options (same seed, same resamples), for the cost of
 * drawing the resamples once. A paired comparison states two statistics of the same pairs.
 */
export function bootstrapEach<T, K extends string>(
  items: readonly T[],
  statistics: Record<K, (sample: readonly T[]) => number>,
  options: BootstrapOptions<T> = {},
): Record<K, BootstrapInterval> {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? BOOTSTRAP_SEED;
  const level = options.level ?? 0.95;
  const groups = new Map<string | number, T[]>();
  items.forEach((item, i) => {
    const k = options.cluster ? options.cluster(item) : i;
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  });
  const clusters = [...groups.values()];
  const names = Object.keys(statistics) as K[];
  const fns = names.map((k) => statistics[k]);
  const out = {} as Record<K, BootstrapInterval>;
  if (clusters.length === 0) {
    names.forEach((name, k) => {
      out[name] = { value: fns[k](items), lo: NaN, hi: NaN, level, resamples, seed, clusters: 0 };
    });
    return out;
  }
  const rng = Rng.seeded(seed);
  const stats = names.map(() => new Float64Array(resamples));
  const sample: T[] = [];
  for (let b = 0; b < resamples; b++) {
    sample.length = 0;
    for (let j = 0; j < clusters.length; j++) for (const item of clusters[Math.floor(rng.uniform() * clusters.length)]) sample.push(item);
    for (let k = 0; k < fns.length; k++) {
      const s = fns[k](sample);
      stats[k][b] = Number.isNaN(s) ? Infinity : s;
    }
  }
  const tail = (1 - level) / 2;
  names.forEach((name, k) => {
    const sorted = stats[k].sort();
    out[name] = {
      value: fns[k](items),
      lo: quantileSorted(sorted, tail),
      hi: quantileSorted(sorted, 1 - tail),
      level,
      resamples,
      seed,
      clusters: clusters.length,
    };
  });
  return out;
}
