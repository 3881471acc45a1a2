// The smoothed classifier g_{σ,n} around a base model f (Cohen et al.'s core, and the paper's
// majority vote): draw n noisy copies x + σN in pixel space (never clipped), ask f for each, count
// the votes. `predict` answers by the deployment's rule; `certify` is Cohen's CERTIFY.
import { MAX_SCRATCH_VALUES, type NoiseGenerator } from '@rs-arena/shared/noise';
import { binomTestTwoSided, clopperPearsonLower, certifiedRadius } from '@rs-arena/shared/stats';

/** What smoothing needs of a base model f: its input size, class count and batched top-1 labels. */
export interface BaseClassifier {
  readonly inputSize: number;
  readonly classes: number;
  /** Labels of `count` inputs; with `scratch` the callee may overwrite `batch`. */
  predict(batch: Float32Array, count: number, scratch?: boolean): Promise<Int32Array>;
  /**
   * True when `predict` has copied `batch` by the time it returns its promise (a remote model
   * serializes it at once): the next noisy copies may then be drawn while the answers are awaited.
   */
  readonly copiesInput?: boolean;
}

export const ABSTAIN = -1;

/** Thrown at the next chunk boundary once the caller's signal aborts (its client went away). */
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

export class SmoothedClassifier {
  constructor(
    readonly model: BaseClassifier,
    /** Noise level in pixel units; 0 is the undefended base model. */
    readonly sigma: number,
    /** How many noisy copies go to onnxruntime at once. */
    readonly batchSize: number,
  ) {
    if (!(sigma >= 0)) throw new RangeError(`sigma must be ≥ 0, got ${sigma}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }

  /** Forward passes that `votes` makes for `count` inputs at n samples each. */
  forwardPasses(count: number, n: number): number {
    return this.sigma === 0 ? count : count * n;
  }

  /**
   * Vote counts [count × classes] of the base model over n noisy copies of each of `count` inputs
   * (laid out back to back in `xs`). With σ = 0 the base model is deterministic: one pass counts n.
   * Calls on one classifier run one at a time: they share the noise source's scratch buffer, and
   * the CPU-bound work gains nothing from interleaving. An aborted `signal` stops the work before
   * its next chunk with `Cancelled`.
   */
  votes(xs: Float32Array, count: number, n: number, noise: NoiseGenerator, signal?: AbortSignal): Promise<Uint32Array> {
    // The queue holds a call until the previous one has drawn its noise (the draws stay in call
    // order, so a seeded deployment stays reproducible); a model that copies its input lets the
    // next call draw while this one's answers are still on their way.
    const drawn = this.queue.then(() => this.sampleVotes(xs, count, n, noise, signal));
    this.queue = drawn.catch(() => undefined);
    return drawn.then((d) => d.counts);
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Draws and sends every noisy copy; resolves once all are drawn, with the counts to come. */
  private async sampleVotes(xs: Float32Array, count: number, n: number, noise: NoiseGenerator, signal?: AbortSignal): Promise<{ counts: Promise<Uint32Array> }> {
    const { inputSize, classes } = this.model;
    const counts = new Uint32Array(count * classes);
    if (signal?.aborted) throw new Cancelled(0);
    if (this.sigma === 0) {
      const labels = await this.model.predict(xs, count);
      labels.forEach((label, i) => (counts[i * classes + label] = n));
      return { counts: Promise.resolve(counts) };
    }
    const inFlight: Promise<void>[] = [];
    const total = count * n;
    // Bounded by the noise scratch cap too: an ImageNet input is 150,528 values.
    const chunk = Math.max(1, Math.min(this.batchSize, total, Math.floor(MAX_SCRATCH_VALUES / inputSize)));
    for (let start = 0; start < total; start += chunk) {
      if (signal?.aborted) {
        // Answers still on their way are dropped: a late failure of one must not go unhandled.
        for (const pending of inFlight) pending.catch(() => undefined);
        throw new Cancelled(start);
      }
      const size = Math.min(chunk, total - start);
      // Fetched per chunk: a scratch view may be replaced while we await the model.
      const buf = (noise.scratch ? noise.scratch(chunk * inputSize) : new Float32Array(chunk * inputSize)).subarray(0, size * inputSize);
      // Sample s belongs to input ⌊s/n⌋: fill runs of copies of the same input at once.
      for (let s = start; s < start + size; ) {
        const input = Math.floor(s / n);
        const run = Math.min(start + size, (input + 1) * n) - s;
        const x = xs.subarray(input * inputSize, (input + 1) * inputSize);
        noise.fillNormal(buf.subarray((s - start) * inputSize, (s - start + run) * inputSize), x, this.sigma);
        s += run;
      }
      const answered = this.model.predict(buf, size, true).then((labels) => tally(labels, start, n, classes, counts));
      if (this.model.copiesInput) inFlight.push(answered);
      else await answered;
    }
    return { counts: Promise.all(inFlight).then(() => counts) };
  }

  /** Labels for `count` inputs under the vote rule (ABSTAIN possible with 'predict'). */
  async predict(xs: Float32Array, count: number, n: number, rule: VoteRule, noise: NoiseGenerator, signal?: AbortSignal): Promise<Int32Array> {
    const counts = await this.votes(xs, count, n, noise, signal);
    const classes = this.model.classes;
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) labels[i] = decide(counts.subarray(i * classes, (i + 1) * classes), rule);
    return labels;
  }

  /** Cohen et al.'s CERTIFY: pick ĉ_A with n0 samples, bound p_A with n fresh ones. */
  async certify(x: Float32Array, n0: number, n: number, alpha: number, noise: NoiseGenerator, signal?: AbortSignal): Promise<Certificate> {
    const selectionCounts = await this.votes(x, 1, n0, noise, signal);
    const cA = argmaxCounts(selectionCounts);
    const counts = await this.votes(x, 1, n, noise, signal).catch((err) => {
      throw err instanceof Cancelled ? new Cancelled(this.forwardPasses(1, n0) + err.forwardPasses) : err;
    });
    const pLower = clopperPearsonLower(counts[cA], n, alpha);
    if (pLower < 0.5) return { label: ABSTAIN, candidate: cA, pLower, radius: 0, selectionCounts, counts };
    return { label: cA, candidate: cA, pLower, radius: certifiedRadius(this.sigma, pLower), selectionCounts, counts };
  }
}

function tally(labels: Int32Array, start: number, n: number, classes: number, counts: Uint32Array): void {
  for (let j = 0; j < labels.length; j++) counts[Math.floor((start + j) / n) * classes + labels[j]]++;
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
