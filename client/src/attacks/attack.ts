// The attack interface (Foolbox-style): run(oracle, x0, label, options) → Result. An attack only
// sees a CountingOracle, so it never knows whether the model is remote or local, and every query
// it makes is counted and budgeted. Under a randomized oracle nothing is asserted: the result is
// the best point that was last *verified* adversarial by a query.
import { Rng } from '@rs-arena/shared/rng';
import type { z } from 'zod';
import { BudgetExhausted, BudgetRefused, type CountingOracle, QueryRefused, type QueryCounts } from '../oracle.js';
import { dist2, distInf, lerp } from '../vec.js';

/**
 * Why an attack stopped, the same words whatever the protocol (/v1, /v2): `budget` its own query
 * budget per image is spent (the run is complete); `budget-refused` the server refused a query for
 * the key's budget (the run was cut short: not done, a rerun resumes it); `converged`,
 * `iterations`, `init-failed` (no adversarial starting point found), `misclassified` (x0 was
 * already answered with another label), `refused` (a detector refused a query: a plain attack stops
 * there, detected), `suspended` (the key, or every key of the pool, is suspended).
 */
export type StopReason = 'budget' | 'budget-refused' | 'converged' | 'iterations' | 'init-failed' | 'misclassified' | 'refused' | 'suspended';
/** Stop reasons of runs that did not finish: a rerun attacks the image again. */
export const CUT_SHORT: readonly string[] = ['budget-refused'];

export interface AttackResult {
  attack: string;
  originalLabel: number;
  /** The label the oracle gave the adversarial when it was verified. */
  adversarialLabel: number | null;
  success: boolean;
  adversarial: Float32Array | null;
  /** Distortion in [0,1] pixel space. */
  l2: number | null;
  linf: number | null;
  queries: QueryCounts;
  /** (queries used, best L2 so far), each time the best improved. */
  history: [number, number][];
  wallMs: number;
  stopReason: StopReason;
  /** The oracle's first answer on x0 itself (the clean image), or null if the attack never asked it. */
  cleanLabel: number | null;
}

/** What every attack takes besides its own options. */
export interface AttackOptions {
  /** Seed of the attack's own randomness (probes, directions, starting noise). */
  seed?: number;
  /** Called when the best distance improves (progress bars). */
  onProgress?: (queries: number, bestL2: number) => void;
}

/** An attack's own options: a zod object whose every field has a type, a range, a default (or is optional) and a one-line doc (.describe()). */
export type OptionsSchema = z.ZodObject;

/**
 * An attack as the registry holds it. Its options schema is the single definition the CLI's help,
 * `--option` parsing and validation, the records and the resume keys derive from.
 */
export interface Attack<S extends OptionsSchema = OptionsSchema> {
  readonly name: string;
  /** One line for `rs-arena attack --help`. */
  readonly summary: string;
  /** The distance the attack's search minimises, given its (resolved) options. */
  metric(options: z.output<S>): 'l2' | 'linf';
  readonly options: S;
  /** Options are checked and completed with their defaults by the schema; an unknown one throws. */
  run(oracle: CountingOracle, x0: Float32Array, options?: Partial<z.input<S>> & AttackOptions): Promise<AttackResult>;
}

/** Builds an `Attack` from a body that receives its options already parsed (defaults filled). */
export function defineAttack<S extends OptionsSchema>(def: {
  name: string;
  summary: string;
  metric: (options: z.output<S>) => 'l2' | 'linf';
  options: S;
  run: (oracle: CountingOracle, x0: Float32Array, options: z.output<S>, common: AttackOptions) => Promise<AttackResult>;
}): Attack<S> {
  return {
    name: def.name,
    summary: def.summary,
    metric: def.metric,
    options: def.options,
    async run(oracle, x0, options = {}) {
      const { seed, onProgress, ...own } = options;
      return def.run(oracle, x0, def.options.parse(own), { seed, onProgress });
    },
  };
}

/** The best verified adversarial so far, and the bookkeeping every attack shares. */
export class Tracker {
  best: Float32Array | null = null;
  bestL2 = Infinity;
  bestLabel: number | null = null;
  /** The first answer on x0 itself (attacks start by asking it: `check1(x0)`). */
  cleanLabel: number | null = null;
  readonly rng: Rng;
  readonly started = performance.now();

  constructor(
    readonly oracle: CountingOracle,
    readonly x0: Float32Array,
    readonly options: AttackOptions,
    /** Which distance decides "better": L2 for HSJA-L2 and SurFree, L∞ for HSJA-L∞ and RayS. */
    readonly metric: 'l2' | 'linf' = 'l2',
  ) {
    this.rng = Rng.seeded(options.seed ?? 0);
  }

  distance(x: Float32Array): number {
    return this.metric === 'l2' ? dist2(x, this.x0) : distInf(x, this.x0);
  }

  bestDistance(): number {
    return this.best ? this.distance(this.best) : Infinity;
  }

  /** Offers a point the oracle just answered as adversarial with `label`. */
  offer(x: Float32Array, label: number): boolean {
    if (this.best && this.distance(x) >= this.bestDistance()) return false;
    this.best = x.slice();
    this.bestLabel = label;
    this.bestL2 = dist2(x, this.x0);
    this.oracle.record(this.bestL2);
    this.options.onProgress?.(this.oracle.queries, this.bestL2);
    return true;
  }

  /** Queries a batch; offers every adversarial answer; returns which were adversarial. */
  async check(batch: Float32Array, count: number): Promise<boolean[]> {
    const labels = await this.oracle.labels(batch, count);
    if (batch === this.x0 && this.cleanLabel === null) this.cleanLabel = labels[0];
    const size = this.oracle.inputSize;
    return Array.from(labels, (l, i) => {
      const adv = l >= 0 && l !== this.oracle.originalLabel;
      if (adv) this.offer(batch.subarray(i * size, (i + 1) * size), l);
      return adv;
    });
  }

  async check1(x: Float32Array): Promise<boolean> {
    return (await this.check(x, 1))[0];
  }

  result(attack: string, stopReason: StopReason): AttackResult {
    const { best, x0 } = this;
    return {
      attack,
      originalLabel: this.oracle.originalLabel,
      adversarialLabel: this.bestLabel,
      success: best !== null,
      adversarial: best,
      l2: best ? dist2(best, x0) : null,
      linf: best ? distInf(best, x0) : null,
      queries: this.oracle.counts(),
      history: this.oracle.history.slice(),
      wallMs: performance.now() - this.started,
      stopReason,
      cleanLabel: this.cleanLabel,
    };
  }
}

/**
 * Runs an attack body and turns an exhausted budget into a clean stop with the best result so
 * far. The body returns why it stopped otherwise.
 */
export async function withBudget(tracker: Tracker, name: string, body: () => Promise<StopReason>): Promise<AttackResult> {
  try {
    return tracker.result(name, await body());
  } catch (err) {
    if (err instanceof BudgetExhausted) return tracker.result(name, err instanceof BudgetRefused ? 'budget-refused' : 'budget');
    // Detected: the endpoint refuses to answer (charged). The best verified point so far stands.
    if (err instanceof QueryRefused) return tracker.result(name, err.suspended ? 'suspended' : 'refused');
    throw err;
  }
}

/**
 * Starting point: uniform noise in the input range until one is adversarial (at most `trials`
 * queries, sent in small batches), then a blend binary search toward x0 (as HSJA's init does).
 */
export async function noiseStart(t: Tracker, trials = 100, batch = 10): Promise<Float32Array | null> {
  const size = t.oracle.inputSize;
  const [lo, hi] = t.oracle.range;
  t.oracle.phase('init');
  for (let done = 0; done < trials; done += batch) {
    const k = Math.min(batch, trials - done, t.oracle.remaining);
    if (k <= 0) break;
    const noise = t.rng.fillUniform(new Float32Array(k * size), lo, hi);
    const adv = await t.check(noise, k);
    const i = adv.indexOf(true);
    if (i >= 0) {
      const start = noise.slice(i * size, (i + 1) * size);
      return blendSearch(t, start, 0.001, 'init');
    }
  }
  return null;
}

/**
 * Bisects the blend factor between x0 (not adversarial) and `adv` (adversarial) until the gap is
 * below `tolerance`; returns the adversarial end, which every step keeps verified.
 */
export async function blendSearch(t: Tracker, adv: Float32Array, tolerance: number, phase = 'binary-search', maxSteps = 60): Promise<Float32Array> {
  t.oracle.phase(phase);
  let lo = 0;
  let hi = 1;
  let best = adv;
  const mid = new Float32Array(adv.length);
  for (let step = 0; step < maxSteps && hi - lo > tolerance; step++) {
    const m = (lo + hi) / 2;
    lerp(t.x0, adv, m, mid);
    if (await t.check1(mid)) {
      hi = m;
      best = mid.slice();
    } else lo = m;
  }
  return best;
}
