// The confidence-level oracles and the eq. (4) assessment, against vote counters whose per-class
// probabilities are known exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@rs-arena/shared/rng';
import { probMajorityWrong } from '@rs-arena/shared/stats';
import { RepeatedOracle, ShortcutOracle, assessPoint, type VoteCounter } from '../../../client/src/experiments/confidence.js';
import { CountingOracle, type Oracle } from '../../../client/src/oracle.js';

const shape = [1, 1, 1] as const;
/** A 3-class "model" whose noisy copy of x = [p] is class 0 with probability p, else class 1 or 2 (1 twice as likely). */
function fakeVotes(seed = 1): VoteCounter {
  const rng = Rng.seeded(seed);
  return async (inputs, count, n) =>
    Array.from({ length: count }, (_, i) => {
      const c = [0, 0, 0];
      const u = rng.fillUniform(new Float32Array(n));
      for (const v of u) c[v < inputs[i] ? 0 : v < inputs[i] + (2 * (1 - inputs[i])) / 3 ? 1 : 2]++;
      return c;
    });
}

test('shortcut oracle: adversarial exactly when at least ⌈n·Pa⌉ micro-decisions are wrong', async () => {
  const exact: VoteCounter = async (inputs, count) => Array.from({ length: count }, (_, i) => [Math.round(inputs[i] * 10), 10 - Math.round(inputs[i] * 10), 0]);
  const o = new ShortcutOracle({ inputShape: shape, range: [0, 1] }, exact, 0, 10, 0.8);
  // wrong votes: 10 − 10p; ⌈10·0.8⌉ = 8 needed.
  const labels = await o.predict(Float32Array.from([0.1, 0.2, 0.3, 1]), 4);
  assert.deepEqual(Array.from(labels), [1, 1, 0, 0]);
  const half = new ShortcutOracle({ inputShape: shape, range: [0, 1] }, exact, 0, 10, 0.5);
  assert.deepEqual(Array.from(await half.predict(Float32Array.from([0.5, 0.6]), 2)), [1, 0]);
});

test("shortcut oracle with early-stopping votes: the full vote's verdicts, in fewer passes", async () => {
  // Votes drawn one by one from a stream per point (the same stream with or without the stop), as the
  // server's early stop does: a point stops once `wrong` votes differ from the label or cannot.
  const passes = { n: 0 };
  const sequential =
    (seed: number): VoteCounter =>
    async (inputs, count, n, stop) =>
      Array.from({ length: count }, (_, i) => {
        const rng = Rng.seeded(seed + Math.round(inputs[i] * 1e6));
        const c = [0, 0, 0];
        for (let k = 0; k < n; k++) {
          const wrong = c[1] + c[2];
          if (stop && (wrong >= stop.wrong || c[stop.label] > n - stop.wrong)) break;
          c[rng.uniform() < inputs[i] ? 0 : 1]++;
          passes.n++;
        }
        return c;
      });
  const points = Float32Array.from({ length: 200 }, (_, i) => (i + 0.5) / 200);
  const verdicts = async (earlyStop: boolean) => {
    passes.n = 0;
    const o = new ShortcutOracle({ inputShape: shape, range: [0, 1] }, sequential(11), 0, 100, 0.5, earlyStop);
    return { labels: Array.from(await o.predict(points, points.length)), passes: passes.n };
  };
  const full = await verdicts(false);
  const early = await verdicts(true);
  assert.deepEqual(early.labels, full.labels, 'same verdict for every point');
  assert.equal(full.passes, 200 * 100);
  // Far from the boundary a point decides in about ⌈n·P_a⌉ = 50 votes: about 0.6 of the full passes.
  assert.ok(early.passes < 0.7 * full.passes, `${early.passes} of ${full.passes} passes`);
});

test('repeated oracle: ℓ paid top-1 queries per point, adversarial when ⌈ℓ·Pa⌉ are wrong', async () => {
  let asked = 0;
  const answers = [1, 1, 0, 1, 1, /* point 2: */ 0, 0, 1, 0, 2];
  const inner: Oracle = {
    inputShape: shape,
    range: [0, 1],
    predict: async (_b, count) => {
      const out = Int32Array.from(answers.slice(asked, asked + count));
      asked += count;
      return out;
    },
  };
  const repeated = new RepeatedOracle(inner, 0, 5, 0.8); // needs 4 of 5 wrong
  const counting = new CountingOracle(repeated, 0, 12, undefined, 5);
  assert.deepEqual(Array.from(await counting.labels(new Float32Array(2), 2)), [1, 0]);
  assert.equal(counting.queries, 10);
  assert.equal(asked, 10);
  assert.equal(counting.remaining, 0); // 2 queries left cannot buy a 5-query point
  await assert.rejects(counting.labels(new Float32Array(1), 1), /budget of 12 exhausted/);
});

test('assessPoint: π0 interval covers the truth; eq. (4) probability agrees with the binomial formula', async () => {
  for (const [p, n] of [
    [0.45, 11],
    [0.3, 25],
    [0.55, 101],
  ] as const) {
    const a = await assessPoint(fakeVotes(Math.round(p * 100)), Float32Array.of(p), 0, n, 0.8, 20_000, 3);
    assert.ok(a.pi0Interval[0] <= p && p <= a.pi0Interval[1], `π0 ${p} outside [${a.pi0Interval}]`);
    const truth = probMajorityWrong(1 - p, n);
    assert.ok(a.probAdversarialInterval[0] <= truth && truth <= a.probAdversarialInterval[1]);
    assert.ok(Math.abs(a.probAdversarialBinary - truth) < 0.06, `${a.probAdversarialBinary} vs ${truth}`);
    // Plurality over three classes: the original can win with fewer than half the votes, so it
    // errs less often than the binary model says; check it against exact enumeration.
    assert.ok(a.probAdversarial <= a.probAdversarialBinary + 0.03);
    if (n <= 25) {
      const exact = pluralityWrongExact([p, (2 * (1 - p)) / 3, (1 - p) / 3], n);
      assert.ok(Math.abs(a.probAdversarial - exact) < 0.04, `plurality ${a.probAdversarial} vs exact ${exact}`);
    }
    assert.equal(a.eq5Holds, a.pi0 < a.eq5Threshold);
  }
});

/** P[class 0 is not the plurality winner of Multinomial(n, p)] by enumeration; ties go to the lowest class. */
function pluralityWrongExact(p: number[], n: number): number {
  const logFact = (k: number) => {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  };
  let wrong = 0;
  for (let a = 0; a <= n; a++) {
    for (let b = 0; a + b <= n; b++) {
      const c = n - a - b;
      const pr = Math.exp(logFact(n) - logFact(a) - logFact(b) - logFact(c) + a * Math.log(p[0]) + b * Math.log(p[1]) + c * Math.log(p[2]));
      if (!(a >= b && a >= c)) wrong += pr;
    }
  }
  return wrong;
}
