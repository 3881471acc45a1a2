// The smoothed classifier g_{σ,n} around a base model f (Cohen et al.'s core, and the paper's
// majority vote): draw n noisy copies x + σN in pixel space (never clipped), ask f for each, count
// the votes. `predict` answers by the deployment's rule; `certify` is Cohen's CERTIFY.
import { MAX_SCRATCH_VALUES, NoiseSource, type NoiseGenerator } from '@rs-arena/shared/noise';
import { binomTestTwoSided, clopperPearsonLower, certifiedRadius } from '@rs-arena/shared/stats';
import { type BaseClassifier, JobCancelled, Scheduler } from './scheduler.js';

/** What smoothing needs of a base model f (defined beside the scheduler that drives it). */
export type { BaseClassifier };

export const ABSTAIN = -1;

/**
 * Noise drawn per input rather than from one stream (input-deterministic smoothing): writes the next
 * copies x + σN of input `input` into `out` (whole copies); a copy's noise must not depend on how
 * the copies are split into calls.
 */
export interface CopyNoise {
  fillCopies(out: Float32Array, x: Float32Array, input: number, sigma: number): void;
}

const isCopyNoise = (noise: NoiseGenerator | CopyNoise): noise is CopyNoise => 'fillCopies' in noise;

/** Thrown once the caller's signal aborts (its client went away): its work has left the queue. */
export class Cancelled extends Error {
  override name = 'Cancelled';
  constructor(
    /** Forward passes already spent when the work stopped. */
    readonly forwardPasses: number,
  ) {
    super(`cancelled after ${forwardPasses} forward passes`);
  }
}

/** 'majority': the paper's g_{σ,n}. 'predict': Cohen's PREDICT, abstaining when the top two are not significantly apart. */
export type VoteRule = { rule: 'majority' } | { rule: 'predict'; alpha: number };

export interface Certificate {
  /** The certified class, or ABSTAIN. */
  label: number;
  /** ĉ_A, the class picked by the selection samples (certified or not). */
  candidate: number;
  /** One-sided (1 − α) Clopper-Pearson lower bound on p_A. */
  pLower: number;
  /** σ·Φ⁻¹(p_A lower bound), 0 when abstaining. */
  radius: number;
  /** Counts of the n0 selection samples and of the n estimation samples. */
  selectionCounts: Uint32Array;
  counts: Uint32Array;
}

/**
 * Early-stopping votes (the paper's shortcut only asks whether ⌈n·P_a⌉ of the n votes differ from
 * the label y): an input's sampling stops once `wrong` votes differ from `label`, or once that can
 * no longer happen within n. Its decision (wrong ≥ `wrong` or not) is the full vote's.
 */
export interface EarlyStop {
  label: number;
  wrong: number;
}

export interface VoteOptions {
  /** The caller's API key id: the scheduler shares the model fairly between keys. */
  key?: string;
  stop?: EarlyStop;
}

export interface Tally {
  /** Vote counts [count × classes]. */
  counts: Uint32Array;
  /** Forward passes made per input (n each, fewer where an early stop decided). */
  passes: Uint32Array;
}

export interface SmoothingOptions {
  /** The model's scheduler, shared by every deployment on it (default: a scheduler of its own). */
  scheduler?: Scheduler;
  /**
   * Whether `noise` is a reproducible (seeded) stream: its copies are then drawn strictly in call
   * order, so answers do not depend on other requests. Default true; an unpredictable stream can
   * be shared in any order, which lets the scheduler interleave requests fairly.
   */
  ordered?: boolean;
}

export class SmoothedClassifier {
  private readonly scheduler: Scheduler;
  private readonly ordered: boolean;

  constructor(
    readonly model: BaseClassifier,
    /** Noise level in pixel units; 0 is the undefended base model. */
    readonly sigma: number,
    /** Most noisy copies of one request in one onnxruntime run (the model's scheduler forms the runs). */
    readonly batchSize: number,
    options: SmoothingOptions = {},
  ) {
    if (!(sigma >= 0)) throw new RangeError(`sigma must be ≥ 0, got ${sigma}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    this.scheduler = options.scheduler ?? new Scheduler(model);
    this.ordered = options.ordered ?? true;
  }

  /** Forward passes that `votes` makes for `count` inputs at n samples each. */
  forwardPasses(count: number, n: number): number {
    return this.sigma === 0 ? count : count * n;
  }

  /**
   * Vote counts [count × classes] of the base model over n noisy copies of each of `count` inputs
   * (laid out back to back in `xs`). With σ = 0 the base model is deterministic: one pass counts n.
   * The copies go through the model's scheduler, batched with other requests' copies. An aborted
   * `signal` takes the work out of the queue with `Cancelled`.
   */
  async votes(
    xs: Float32Array,
    count: number,
    n: number,
    noise: NoiseGenerator | CopyNoise,
    signal?: AbortSignal,
    options: VoteOptions = {},
  ): Promise<Uint32Array> {
    return (await this.tally(xs, count, n, noise, signal, options)).counts;
  }

  /** The votes and the forward passes made per input (fewer than n where `options.stop` decided early). */
  async tally(xs: Float32Array, count: number, n: number, noise: NoiseGenerator | CopyNoise, signal?: AbortSignal, options: VoteOptions = {}): Promise<Tally> {
    const { classes } = this.model;
    if (signal?.aborted) throw new Cancelled(0);
    if (this.sigma === 0) {
      const counts = new Uint32Array(count * classes);
      (await this.model.predict(xs, count)).forEach((label, i) => (counts[i * classes + label] = n));
      return { counts, passes: new Uint32Array(count).fill(1) };
    }
    const { stop } = options;
    try {
      const { counts, answered } = await this.scheduler.submit({
        xs,
        count,
        // The noise x + σN is drawn here, into the scheduler's batch buffers, copy by copy.
        fill: isCopyNoise(noise) ? (out, x, input) => noise.fillCopies(out, x, input, this.sigma) : (out, x) => noise.fillNormal(out, x, this.sigma),
        // Unpredictable plain Gaussian noise: a model in its own threads may draw it there instead.
        ...(!this.ordered && noise instanceof NoiseSource ? { gaussian: this.sigma } : {}),
        stream: noise,
        key: options.key,
        ordered: this.ordered,
        maxPerRun: this.batchSize,
        multiWave: stop !== undefined,
        ...(this.ordered && !stop && !isCopyNoise(noise) && !(noise instanceof NoiseSource) ? { fillGrid: this.legacyChunk(count * n) } : {}),
        wave: stop ? earlyStopWaves(n, stop, classes) : oneWave(count, n),
        signal,
      });
      return { counts, passes: answered };
    } catch (err) {
      throw err instanceof JobCancelled ? new Cancelled(err.forwardPasses) : err;
    }
  }

  /** The chunk of copies a request was filled in before batching across requests (see JobSpec.fillGrid). */
  private legacyChunk(total: number): number {
    return Math.max(1, Math.min(this.batchSize, total, Math.floor(MAX_SCRATCH_VALUES / this.model.inputSize)));
  }

  /** Labels for `count` inputs under the vote rule (ABSTAIN possible with 'predict'). */
  async predict(
    xs: Float32Array,
    count: number,
    n: number,
    rule: VoteRule,
    noise: NoiseGenerator | CopyNoise,
    signal?: AbortSignal,
    options: VoteOptions = {},
  ): Promise<Int32Array> {
    const counts = await this.votes(xs, count, n, noise, signal, options);
    const classes = this.model.classes;
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) labels[i] = decide(counts.subarray(i * classes, (i + 1) * classes), rule);
    return labels;
  }

  /** Cohen et al.'s CERTIFY: pick ĉ_A with n0 samples, bound p_A with n fresh ones. */
  async certify(
    x: Float32Array,
    n0: number,
    n: number,
    alpha: number,
    noise: NoiseGenerator | CopyNoise,
    signal?: AbortSignal,
    options: VoteOptions = {},
  ): Promise<Certificate> {
    const selectionCounts = await this.votes(x, 1, n0, noise, signal, options);
    const cA = argmaxCounts(selectionCounts);
    const counts = await this.votes(x, 1, n, noise, signal, options).catch((err) => {
      throw err instanceof Cancelled ? new Cancelled(this.forwardPasses(1, n0) + err.forwardPasses) : err;
    });
    const pLower = clopperPearsonLower(counts[cA], n, alpha);
    if (pLower < 0.5) return { label: ABSTAIN, candidate: cA, pLower, radius: 0, selectionCounts, counts };
    return { label: cA, candidate: cA, pLower, radius: certifiedRadius(this.sigma, pLower), selectionCounts, counts };
  }
}

/** All n copies of every input at once. */
function oneWave(count: number, n: number) {
  let asked = false;
  return (): Uint32Array | null => {
    if (asked) return null;
    asked = true;
    return new Uint32Array(count).fill(n);
  };
}

/**
 * Early stopping, in waves: each undecided input gets the fewest further copies that could decide
 * it (k − wrong more wrong votes, or n − k + 1 − right more right ones, k = stop.wrong), so no pass
 * is made that a decided answer would not need; the waves of all inputs share the model's batches.
 */
function earlyStopWaves(n: number, stop: EarlyStop, classes: number) {
  const k = stop.wrong;
  return (counts: Uint32Array, answered: Uint32Array): Uint32Array | null => {
    const wave = new Uint32Array(answered.length);
    let any = false;
    for (let i = 0; i < answered.length; i++) {
      const right = counts[i * classes + stop.label];
      const wrong = answered[i] - right;
      if (wrong >= k || right > n - k || answered[i] >= n) continue;
      wave[i] = Math.min(k - wrong, n - k + 1 - right, n - answered[i]);
      any = true;
    }
    return any ? wave : null;
  };
}

/** Index of the largest count; ties go to the lowest class index. */
export function argmaxCounts(counts: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c;
  return best;
}

/** The answer for one input's vote counts under a rule. */
export function decide(counts: ArrayLike<number>, rule: VoteRule): number {
  const top = argmaxCounts(counts);
  if (rule.rule === 'majority') return top;
  let second = -1;
  for (let c = 0; c < counts.length; c++) if (c !== top && (second < 0 || counts[c] > counts[second])) second = c;
  const nA = counts[top];
  const nB = second < 0 ? 0 : counts[second];
  return binomTestTwoSided(nA, nA + nB, 0.5) > rule.alpha ? ABSTAIN : top;
}
