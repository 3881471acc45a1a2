// "Adversarial at level P_a" decided from repeated top-1 answers, asking only as many repeats as
// each point needs: a third way beside the paper's shortcut and the fixed-ℓ RepeatedOracle
// (experiments/confidence.ts).
//
// Every top-1 answer of a randomized endpoint is one draw of g_{σ,n}(x), so "the answer is wrong"
// is Bernoulli(p) with p = P[g_{σ,n}(x) ≠ y], the very probability of eq. (4). The point is
// adversarial at level P_a when p ≥ P_a. We decide it with Wald's sequential probability ratio
// test (SPRT) of H0: p = p0 against H1: p = p1, p0 = P_a < p1 = P_a + margin:
//  - The indifference zone (P_a, P_a + margin) lies *above* P_a, so an accepted point is adversarial
//    at level P_a with error ≤ α: that is the guarantee eq. (4) asks of a returned point. A point
//    in the zone may go either way; a point with p ≥ p1 is rejected with probability ≤ β.
//  - Thresholds A = ln(1/α) and B = ln β (rather than Wald's approximations ln((1−β)/α),
//    ln(β/(1−α))) make the bounds rigorous, not approximate: under p = p0 the likelihood ratio is
//    a non-negative martingale with mean 1, so by Ville's inequality it ever reaches 1/α with
//    probability ≤ α; for p < p0 it is a supermartingale (the ratio is monotone in the number of
//    wrong answers), so the bound holds for every p ≤ P_a. Symmetrically P[reject] ≤ β for p ≥ p1.
//  - The cap (maxRepeats) truncates the test by *rejecting*: that can only lower the chance of
//    accepting, so α stays a bound on false acceptance; it only adds false rejections near P_a
//    (β holds for the untruncated test: with P_a = 0.8 and margin 0.15 the walk at p1 = 0.95
//    averages about 32 answers, so the default cap of 100 rarely binds there; a margin of 0.1
//    needs about 80 and would be cut often).
//  - Why the SPRT rather than a sequential Clopper-Pearson bound or a confidence sequence: among
//    tests with these error rates at p0 and p1 it minimises the expected number of answers at both
//    (Wald & Wolfowitz 1948), and it is cheap to run exactly; a confidence sequence would spend a
//    union-bound premium over all sample sizes to also estimate p, which the attack does not need.
// The walk moves +a = ln(p1/p0) per wrong answer and −b = ln((1−p0)/(1−p1)) per right one (an
// abstention is not a wrong answer). Each round asks every undecided point of the batch at once,
// and as many repeats as it needs before it *could* cross a threshold: fewer can decide nothing,
// so grouping them costs no query that one-at-a-time asking would have saved.
import { z } from 'zod';
import { BudgetExhausted, CountingOracle, type Oracle } from './oracle.js';

export const sequentialTestSchema = z.object({
  Pa: z.number().gt(0).lt(1).default(0.8).describe('the level: accept when P[answer ≠ original] ≥ Pa, with error ≤ alpha'),
  margin: z.number().gt(0).lt(1).default(0.15).describe('indifference zone above Pa: points with p ≥ Pa + margin are rejected with error ≤ beta'),
  alpha: z.number().gt(0).lt(0.5).default(0.05).describe('bound on accepting a point with p ≤ Pa (δ)'),
  beta: z.number().gt(0).lt(0.5).default(0.05).describe('bound on rejecting a point with p ≥ Pa + margin'),
  maxRepeats: z.number().int().min(1).default(100).describe('most repeats per point; an undecided point is rejected at the cap'),
});
export type SequentialTestOptions = z.input<typeof sequentialTestSchema>;
export type SequentialTestParams = z.output<typeof sequentialTestSchema>;

/** The SPRT's constants, shared by the oracle and the exact operating characteristic below. */
export class SequentialTest {
  readonly p0: number;
  readonly p1: number;
  /** Log-likelihood-ratio step per wrong (+up) and per right (−down) answer. */
  readonly up: number;
  readonly down: number;
  readonly accept: number;
  readonly reject: number;
  readonly params: SequentialTestParams;

  constructor(options: SequentialTestOptions = {}) {
    const o = sequentialTestSchema.parse(options);
    this.params = o;
    if (!(o.Pa + o.margin < 1)) throw new RangeError(`Pa + margin must stay below 1, got ${o.Pa} + ${o.margin}`);
    this.p0 = o.Pa;
    this.p1 = o.Pa + o.margin;
    this.up = Math.log(this.p1 / this.p0);
    this.down = Math.log((1 - this.p0) / (1 - this.p1));
    this.accept = Math.log(1 / o.alpha);
    this.reject = Math.log(o.beta);
  }

  /** The walk after `wrong` wrong answers out of `asked`. */
  score(wrong: number, asked: number): number {
    return wrong * this.up - (asked - wrong) * this.down;
  }

  /** 'accept' | 'reject' | null (undecided) after `wrong` of `asked` answers. */
  decide(wrong: number, asked: number): 'accept' | 'reject' | null {
    const s = this.score(wrong, asked);
    // A tiny tolerance: k·up is computed in floating point and must not miss a threshold it reaches exactly.
    if (s >= this.accept - 1e-9) return 'accept';
    if (s <= this.reject + 1e-9) return 'reject';
    return asked >= this.params.maxRepeats ? 'reject' : null;
  }

  /** Answers needed before the walk could possibly cross a threshold (or reach the cap): ≥ 1. */
  nextRound(wrong: number, asked: number): number {
    const s = this.score(wrong, asked);
    const toAccept = Math.ceil((this.accept - 1e-9 - s) / this.up);
    const toReject = Math.ceil((s - this.reject - 1e-9) / this.down);
    return Math.max(1, Math.min(toAccept, toReject, this.params.maxRepeats - asked));
  }

  /** The fewest answers that can accept a point (all of them wrong). */
  get minAccept(): number {
    return Math.ceil((this.accept - 1e-9) / this.up);
  }

  /** The fewest answers any decision takes: what one input costs at least. */
  get minCost(): number {
    return Math.min(this.minAccept, Math.ceil((-this.reject - 1e-9) / this.down), this.params.maxRepeats);
  }

  /**
   * The exact operating characteristic at true rate p, by dynamic programming over (asked, wrong):
   * P[accept] and the expected number of answers. What the empirical checks are compared with.
   */
  exact(p: number): { accept: number; expectedRepeats: number } {
    let alive = new Map<number, number>([[0, 1]]); // wrong count → probability, among undecided paths
    let accept = 0;
    let expected = 0;
    for (let asked = 1; alive.size > 0; asked++) {
      const next = new Map<number, number>();
      for (const [w, q] of alive) {
        for (const [w2, q2] of [
          [w + 1, q * p],
          [w, q * (1 - p)],
        ] as const) {
          if (q2 === 0) continue;
          const d = this.decide(w2, asked);
          if (d === null) next.set(w2, (next.get(w2) ?? 0) + q2);
          else {
            expected += q2 * asked;
            if (d === 'accept') accept += q2;
          }
        }
      }
      alive = next;
    }
    return { accept, expectedRepeats: expected };
  }
}

/** How the oracle asks one raw round: count inputs back to back, one top-1 answer each. */
export type RawAsk = (batch: Float32Array, count: number) => Promise<Int32Array>;

/**
 * An Oracle whose answer for a point is the SPRT's verdict: a wrong label (the most frequent wrong
 * answer) when accepted at level Pa, the original label otherwise. Its raw answers come from
 * `ask`: the inner oracle's predict by default. `spent` counts them. Do not put a plain
 * CountingOracle over it (it would charge one query per point): attacks use sequentialView(),
 * which routes every repeat through the attacker's CountingOracle.
 */
export class SequentialOracle implements Oracle {
  readonly test: SequentialTest;
  spent = 0;
  /** Repeats per decided point and verdicts, for reports and tests. */
  readonly decisions: { repeats: number; accepted: boolean }[] = [];
  private readonly ask: RawAsk;

  constructor(
    private readonly inner: Pick<Oracle, 'inputShape' | 'range'> & Partial<Pick<Oracle, 'predict'>>,
    readonly originalLabel: number,
    options: SequentialTestOptions = {},
    ask?: RawAsk,
  ) {
    this.test = new SequentialTest(options);
    const predict = inner.predict?.bind(inner);
    const raw = ask ?? predict;
    if (!raw) throw new TypeError('SequentialOracle needs an inner predict or an ask function');
    this.ask = raw;
  }

  get inputShape() {
    return this.inner.inputShape;
  }
  get range() {
    return this.inner.range;
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const size = batch.length / count;
    const wrong = new Int32Array(count);
    const asked = new Int32Array(count);
    const tallies = Array.from({ length: count }, () => new Map<number, number>());
    const out = new Int32Array(count).fill(this.originalLabel);
    let open = Array.from({ length: count }, (_, i) => i);
    while (open.length > 0) {
      const reps = open.map((i) => this.test.nextRound(wrong[i], asked[i]));
      const total = reps.reduce((a, b) => a + b, 0);
      const copies = new Float32Array(total * size);
      let at = 0;
      open.forEach((i, k) => {
        const row = batch.subarray(i * size, (i + 1) * size);
        for (let r = 0; r < reps[k]; r++, at++) copies.set(row, at * size);
      });
      // One call per round for the whole batch; a BudgetExhausted from `ask` ends the decision.
      const labels = await this.ask(copies, total);
      this.spent += total;
      at = 0;
      const still: number[] = [];
      open.forEach((i, k) => {
        for (let r = 0; r < reps[k]; r++, at++) {
          const l = labels[at];
          if (l >= 0 && l !== this.originalLabel) {
            wrong[i]++;
            tallies[i].set(l, (tallies[i].get(l) ?? 0) + 1);
          }
        }
        asked[i] += reps[k];
        const d = this.test.decide(wrong[i], asked[i]);
        if (d === null) still.push(i);
        else {
          this.decisions.push({ repeats: asked[i], accepted: d === 'accept' });
          if (d === 'accept') out[i] = [...tallies[i]].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
        }
      });
      open = still;
    }
    return out;
  }
}

/**
 * The attacker's CountingOracle seen through the sequential test: an attack run on the view gets
 * the SPRT's verdicts from labels()/isAdversarial(), while every repeat is a plain top-1 query of
 * `outer` (one labels() call per round), so `outer` checks the budget before each round, books it,
 * attributes it to the current phase and counts its wrong answers, exactly as for any attack: the
 * budget is never exceeded and nothing is counted twice. The view keeps no count of its own; its
 * queries, counts and phases are the outer's, and `remaining` is the points still affordable at
 * the test's cheapest decision (an attack sizing a batch by it may still run out mid-test, which
 * ends the run cleanly through withBudget like any exhausted budget).
 */
export class SequentialView extends CountingOracle {
  readonly sequential: SequentialOracle;
  /** Queries of the outer budget the view leaves untouched (for a final confirmation). */
  reserve = 0;
  /** Called with each point the test accepts (a view of the batch: copy it to keep it). */
  onAccept?: (x: Float32Array) => void;

  constructor(
    readonly outer: CountingOracle,
    options: SequentialTestOptions = {},
  ) {
    super(outer.inner, outer.originalLabel, outer.budget);
    this.sequential = new SequentialOracle(outer, outer.originalLabel, options, (b, k) => this.raw(b, k));
  }

  /** Plain top-1 answers, one query per input, charged to the outer oracle without touching the reserve. */
  raw(batch: Float32Array, count: number): Promise<Int32Array> {
    if (this.outer.queries + count > this.outer.budget - this.reserve) {
      throw new BudgetExhausted(`query budget of ${this.outer.budget} exhausted (${this.outer.queries} used, ${this.reserve} reserved, ${count} more asked)`);
    }
    return this.outer.labels(batch, count);
  }

  /** Plain answers still affordable outside the reserve. */
  get rawRemaining(): number {
    return Math.max(0, this.outer.remaining - this.reserve);
  }

  override get queries(): number {
    return this.outer.queries;
  }
  override get remaining(): number {
    return Math.floor(this.rawRemaining / this.sequential.test.minCost);
  }
  override phase(name: string): void {
    this.outer.phase(name);
  }
  override counts() {
    return this.outer.counts();
  }
  override async labels(batch: Float32Array, count: number): Promise<Int32Array> {
    if (count === 0) return new Int32Array(0);
    const size = this.inputSize;
    const labels = await this.sequential.predict(batch.subarray(0, count * size), count);
    if (this.onAccept) labels.forEach((l, i) => l !== this.originalLabel && this.onAccept!(batch.subarray(i * size, (i + 1) * size)));
    return labels;
  }
  override record(value: number): void {
    this.history.push([this.outer.queries, value]);
    this.outer.record(value);
  }
}

/** The view, or the oracle itself when it already is one (so wrappers compose without nesting tests). */
export function sequentialView(oracle: CountingOracle, options: SequentialTestOptions = {}): SequentialView {
  return oracle instanceof SequentialView ? oracle : new SequentialView(oracle, options);
}
