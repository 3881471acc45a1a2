// Adversarial with confidence level P_a (the paper's §3.4, eq. 4): x_a is adversarial at level P_a
// when P[g_{σ,n}(x_a) ≠ y] ≥ P_a. Two ways to give an attack that notion of "adversarial":
//  - ShortcutOracle: the paper's simulation (§4.1). One evaluator votes call per point; the point
//    counts as adversarial when at least ⌈n·P_a⌉ of its n micro-decisions are wrong. It needs the
//    evaluator role, which no real attacker has: it is a simulation, and labelled so in results.
//    It asks for early-stopping votes: a point's sampling ends as soon as ⌈n·P_a⌉ votes are wrong
//    or can no longer be, which decides exactly what the full n votes would, in fewer passes.
//  - RepeatedOracle: what a real attacker can do. Each point is asked ℓ times with plain top-1
//    queries, all paid for, and counts as adversarial when at least ⌈ℓ·P_a⌉ answers are wrong.
// After an attack, assessPoint() measures eq. (4) for the final point from many fresh votes.
import { clopperPearsonLower, clopperPearsonUpper } from '@rs-arena/shared/stats';
import { eq5Threshold, probMajorityWrong, shortcutThreshold } from '@rs-arena/shared/stats';
import { Rng } from '@rs-arena/shared/rng';
import type { Oracle } from '../oracle.js';
import type { PointAssessment } from './records/distortion.js';

/**
 * Vote counts per class for a batch (the evaluator's /votes endpoint, or an in-process model). With
 * `stop`, each input's sampling may end once `stop.wrong` votes differ from `stop.label` or that can
 * no longer happen (the votes route's early stop): its counts then sum to fewer than n, and whether
 * at least `stop.wrong` votes are wrong is the full vote's answer.
 */
export type VoteCounter = (inputs: Float32Array, count: number, n: number, stop?: { label: number; wrong: number }) => Promise<number[][]>;

/** The label an oracle answers for "adversarial": the most voted wrong class. */
function wrongLabel(counts: number[], original: number): number {
  let best = -1;
  for (let c = 0; c < counts.length; c++) if (c !== original && (best < 0 || counts[c] > counts[best])) best = c;
  return best;
}

export class ShortcutOracle implements Oracle {
  readonly kind = 'shortcut (paper §4.1 simulation, evaluator votes)';
  private readonly threshold: number;

  constructor(
    private readonly inner: Pick<Oracle, 'inputShape' | 'range'>,
    private readonly votes: VoteCounter,
    readonly originalLabel: number,
    readonly n: number,
    readonly Pa: number,
    /** Ask the evaluator to stop each point's votes once decided (default); false: all n votes. */
    readonly earlyStop = true,
  ) {
    this.threshold = shortcutThreshold(n, Pa);
  }

  get inputShape() {
    return this.inner.inputShape;
  }
  get range() {
    return this.inner.range;
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const counts = await this.votes(batch, count, this.n, this.earlyStop ? { label: this.originalLabel, wrong: this.threshold } : undefined);
    return Int32Array.from(counts, (c) => {
      // Counted, not n − right: an early-stopped point has fewer than n votes.
      const wrong = c.reduce((a, b) => a + b, 0) - (c[this.originalLabel] ?? 0);
      return wrong >= this.threshold ? wrongLabel(c, this.originalLabel) : this.originalLabel;
    });
  }
}

export class RepeatedOracle implements Oracle {
  readonly kind = 'repeated top-1 queries (realistic)';
  readonly needed: number;

  constructor(
    private readonly inner: Oracle,
    readonly originalLabel: number,
    /** ℓ: top-1 queries per point (the CountingOracle's cost per input). */
    readonly repeats: number,
    readonly Pa: number,
  ) {
    if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be a positive integer, got ${repeats}`);
    this.needed = Math.max(1, Math.ceil(repeats * Pa - 1e-9));
  }

  get inputShape() {
    return this.inner.inputShape;
  }
  get range() {
    return this.inner.range;
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const size = batch.length / count;
    const copies = new Float32Array(count * this.repeats * size);
    for (let i = 0; i < count; i++) {
      for (let r = 0; r < this.repeats; r++) copies.set(batch.subarray(i * size, (i + 1) * size), (i * this.repeats + r) * size);
    }
    const labels = await this.inner.predict(copies, count * this.repeats);
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const answers = labels.subarray(i * this.repeats, (i + 1) * this.repeats);
      const wrong = answers.filter((l) => l >= 0 && l !== this.originalLabel);
      out[i] = wrong.length >= this.needed ? mode(wrong) : this.originalLabel;
    }
    return out;
  }
}

function mode(labels: Int32Array): number {
  const counts = new Map<number, number>();
  let best = labels[0];
  for (const l of labels) {
    counts.set(l, (counts.get(l) ?? 0) + 1);
    if (counts.get(l)! > counts.get(best)!) best = l;
  }
  return best;
}

/**
 * Eq. (4) for a final point, from `samples` fresh noisy copies (evaluator votes): π0 with a 95%
 * Clopper-Pearson interval, the probability that the majority of n is wrong (binary model, with the
 * interval carried over because it is monotone in π0), and the plurality probability by simulation.
 */
export async function assessPoint(
  votes: VoteCounter,
  x: Float32Array,
  originalLabel: number,
  n: number,
  Pa: number,
  samples = 10_000,
  seed = 0,
): Promise<PointAssessment> {
  const [counts] = await votes(x, 1, samples);
  const total = counts.reduce((a, b) => a + b, 0);
  const k0 = counts[originalLabel] ?? 0;
  const pi0 = k0 / total;
  const lo = clopperPearsonLower(k0, total, 0.025);
  const hi = clopperPearsonUpper(k0, total, 0.025);
  const [shortcutCounts] = await votes(x, 1, n);
  return {
    samples: total,
    pi0,
    pi0Interval: [lo, hi],
    probAdversarial: simulatePlurality(counts, originalLabel, n, Rng.seeded(seed)),
    probAdversarialBinary: probMajorityWrong(1 - pi0, n),
    probAdversarialInterval: [probMajorityWrong(1 - hi, n), probMajorityWrong(1 - lo, n)],
    eq5Threshold: eq5Threshold(n, Pa),
    eq5Holds: pi0 < eq5Threshold(n, Pa),
    shortcutVerdict: n - (shortcutCounts[originalLabel] ?? 0) >= shortcutThreshold(n, Pa),
  };
}

/** P[plurality of n draws from the estimated class frequencies ≠ original] (ties: lowest class, as the server). */
function simulatePlurality(counts: number[], original: number, n: number, rng: Rng, trials = 4000): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const c of counts) cdf.push((acc += c / total));
  const u = new Float32Array(n);
  const tally = new Int32Array(counts.length);
  let wrong = 0;
  for (let t = 0; t < trials; t++) {
    tally.fill(0);
    rng.fillUniform(u);
    for (const v of u) {
      let c = 0;
      while (c < cdf.length - 1 && v >= cdf[c]) c++;
      tally[c]++;
    }
    let top = 0;
    for (let c = 1; c < tally.length; c++) if (tally[c] > tally[top]) top = c;
    if (top !== original) wrong++;
  }
  return wrong / trials;
}
