// The sequential test of "adversarial at level P_a": its error rates against a simulated
// Bernoulli oracle (fixed seed), the exact operating characteristic, the cost it spends far from
// and near the boundary, batching, and the accounting through the attacker's CountingOracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@rs-arena/shared/rng';
import { binomPmf } from '@rs-arena/shared/stats';
import { BudgetExhausted, CountingOracle, type Oracle } from '../../../client/src/oracle.js';
import { SequentialOracle, SequentialTest, SequentialView, sequentialView } from '../../../client/src/oracle-sequential.js';

/** Input i (one value per input) is answered wrongly (label 1 or 2) with probability p = input[0]; original label 0. */
class BernoulliOracle implements Oracle {
  readonly inputShape = [1, 1, 1] as const;
  readonly range = [0, 1] as const;
  calls = 0;
  inputs = 0;
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = Rng.seeded(seed);
  }
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.calls++;
    this.inputs += count;
    return Int32Array.from({ length: count }, (_, i) => (this.rng.uniform() < batch[i] ? (this.rng.uniform() < 0.7 ? 1 : 2) : 0));
  }
}

/** Slack of an empirical rate over `n` trials: 4 binomial standard deviations (one-sided, p ≈ 3e-5). */
const slack = (rate: number, n: number) => 4 * Math.sqrt((Math.max(rate, 0.01) * (1 - rate)) / n);

async function acceptRate(p: number, options: ConstructorParameters<typeof SequentialTest>[0], trials: number, seed: number) {
  const inner = new BernoulliOracle(seed);
  const seq = new SequentialOracle(inner, 0, options);
  const labels = await seq.predict(new Float32Array(trials).fill(p), trials);
  const accepted = labels.filter((l) => l !== 0).length;
  return { rate: accepted / trials, spent: seq.spent, inner, seq };
}

// β is a property of the untruncated test: a cap high enough not to bind here (the default cap's own
// effect is checked below).
for (const options of [
  { Pa: 0.8, margin: 0.1, alpha: 0.05, beta: 0.05, maxRepeats: 1000 },
  { Pa: 0.5, margin: 0.15, alpha: 0.01, beta: 0.2, maxRepeats: 1000 },
]) {
  test(`error rates at p = Pa and p = Pa + margin stay within α and β (${JSON.stringify(options)})`, async () => {
    const t = new SequentialTest(options);
    const trials = 4000;
    // Type I: a point exactly at the level (the worst case of p ≤ Pa) is accepted with probability ≤ α.
    const atLevel = await acceptRate(options.Pa, options, trials, 1);
    assert.ok(atLevel.rate <= options.alpha + slack(options.alpha, trials), `type I ${atLevel.rate} > α = ${options.alpha}`);
    // Type II: a point at the far side of the indifference zone is rejected with probability ≤ β.
    const above = await acceptRate(options.Pa + options.margin, options, trials, 2);
    assert.ok(1 - above.rate <= options.beta + slack(options.beta, trials), `type II ${1 - above.rate} > β = ${options.beta}`);
    // Below the level it accepts even less (the ratio is monotone in p).
    const below = await acceptRate(options.Pa - 0.2, options, trials, 3);
    assert.ok(below.rate <= atLevel.rate + slack(atLevel.rate, trials));
    // The simulation agrees with the exact operating characteristic, which itself meets the bounds.
    for (const [p, sim] of [
      [options.Pa, atLevel],
      [options.Pa + options.margin, above],
      [options.Pa - 0.2, below],
    ] as const) {
      const exact = t.exact(p);
      assert.ok(Math.abs(sim.rate - exact.accept) <= slack(exact.accept, trials), `p = ${p}: simulated ${sim.rate}, exact ${exact.accept}`);
      assert.ok(
        Math.abs(sim.spent / trials - exact.expectedRepeats) <= 0.05 * exact.expectedRepeats,
        `p = ${p}: mean repeats ${sim.spent / trials} vs ${exact.expectedRepeats}`,
      );
    }
    assert.ok(t.exact(options.Pa).accept <= options.alpha);
    assert.ok(1 - t.exact(options.Pa + options.margin).accept <= options.beta);
  });
}

test('few repeats far from the boundary, more near it, never more than the cap', async () => {
  const t = new SequentialTest({ Pa: 0.8 }); // defaults: margin 0.15, α = β = 0.05, cap 100
  // A point always answered correctly is rejected as soon as the walk can reach ln β.
  const clean = await acceptRate(0, {}, 100, 4);
  assert.equal(clean.rate, 0);
  assert.equal(clean.spent, 100 * Math.ceil(-Math.log(0.05) / t.down - 1e-9));
  // A point always answered wrongly is accepted after exactly minAccept answers, with probability
  // at the level equal to Pa^minAccept (the stats module's binomial), which is ≤ α.
  const far = await acceptRate(1, {}, 100, 5);
  assert.equal(far.rate, 1);
  assert.equal(far.spent, 100 * t.minAccept);
  assert.ok(binomPmf(t.minAccept, t.minAccept, 0.8) <= 0.05);
  // Near the boundary the test needs many more answers, and the cap bounds them.
  const near = await acceptRate(0.85, {}, 400, 6);
  assert.ok(near.spent / 400 > 1.5 * t.minAccept, `mean repeats near the boundary: ${near.spent / 400}`);
  assert.ok(near.seq.decisions.every((d) => d.repeats <= 100));
  assert.ok(
    near.seq.decisions.some((d) => d.repeats === 100 && !d.accepted),
    'some points reach the cap and are rejected',
  );
  // The cap only adds rejections: α still holds at the level, and β nearly at the zone's far side.
  assert.ok(t.exact(0.8).accept <= 0.05);
  assert.ok(1 - t.exact(0.95).accept <= 0.08, `type II with the cap: ${1 - t.exact(0.95).accept}`);
});

test('one inner call per round for the whole batch; the label is the most frequent wrong answer', async () => {
  const inner = new BernoulliOracle(7);
  const seq = new SequentialOracle(inner, 0, { Pa: 0.8 });
  const labels = await seq.predict(Float32Array.from([0, 1, 0.9, 1, 0]), 5);
  assert.equal(inner.inputs, seq.spent);
  // Rounds: the batch's longest decision over its largest per-round step, not one call per point.
  const longest = Math.max(...seq.decisions.map((d) => d.repeats));
  assert.ok(inner.calls <= longest, `${inner.calls} calls for a longest decision of ${longest}`);
  assert.equal(labels[0], 0);
  assert.equal(labels[4], 0);
  assert.equal(labels[1], 1, 'label 1 is answered 70% of the wrong answers');
  assert.equal(labels[3], 1);
});

test('through a SequentialView every repeat is a counted query of the attacker oracle, and the budget is never exceeded', async () => {
  for (const budget of [0, 5, 37, 500]) {
    const inner = new BernoulliOracle(8);
    const outer = new CountingOracle(inner, 0, budget);
    const view = sequentialView(outer, { Pa: 0.8 });
    assert.equal(sequentialView(view), view, 'views do not nest');
    view.phase('probe');
    const asked: boolean[] = [];
    try {
      for (let k = 0; k < 100; k++) asked.push(...Array.from(await view.labels(Float32Array.from([0.2, 1, 0.95]), 3), (l) => l >= 0 && l !== 0));
    } catch (err) {
      assert.ok(err instanceof BudgetExhausted);
    }
    assert.equal(outer.queries, inner.inputs, 'every repeat was booked');
    assert.ok(inner.inputs <= budget, `spent ${inner.inputs} of ${budget}`);
    assert.equal(view.queries, outer.queries);
    assert.deepEqual(view.counts(), outer.counts());
    const phases = Object.values(outer.counts().perPhase);
    assert.equal(
      phases.reduce((s, p) => s + p.queries, 0),
      outer.queries,
    );
    // A round that does not fit is not asked at all: with 5 queries left nothing can be decided.
    if (budget >= 37) assert.ok((outer.counts().perPhase.probe?.queries ?? 0) > 0);
    else if (budget === 5) assert.equal(outer.queries, 0);
    assert.ok(budget - outer.queries < 3 * 100, 'it stops only when a round no longer fits');
    // The point answered wrongly with probability 0.2 is never accepted, the certain one always.
    for (let k = 0; k < asked.length; k += 3) {
      assert.equal(asked[k], false);
      assert.equal(asked[k + 1], true);
    }
    assert.ok(view instanceof SequentialView);
    assert.equal(view.remaining, Math.floor(outer.remaining / view.sequential.test.minCost));
  }
});

test('bad options are refused with a clear error', () => {
  assert.throws(() => new SequentialTest({ Pa: 0.95, margin: 0.1 }), /Pa \+ margin/);
  assert.throws(() => new SequentialTest({ alpha: 0 }), /alpha/);
  assert.throws(() => new SequentialTest({ maxRepeats: 0 }), /maxRepeats/);
});
