// The smoothed classifier against a base classifier whose smoothed probabilities are known in
// closed form: a half-space f(x) = [x₀ > ½]. For x₀ = ½ + δ the noisy vote for class 1 has
// probability Φ(δ/σ), and g_σ's boundary is f's (a linear f is its own smoothing), so the true
// certified radius is exactly δ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@rs-arena/shared/rng';
import { normalCdf, clopperPearsonLower, binomTestTwoSided } from '@rs-arena/shared/stats';
import { SmoothedClassifier, ABSTAIN, decide, argmaxCounts, type BaseClassifier } from '../../../server/src/smoothing.js';

class HalfSpace implements BaseClassifier {
  readonly classes = 3; // class 2 is never predicted: it must get no votes
  calls = 0;
  passes = 0;
  constructor(readonly inputSize = 4) {}
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.calls++;
    this.passes += count;
    return Int32Array.from({ length: count }, (_, i) => (batch[i * this.inputSize] > 0.5 ? 1 : 0));
  }
}

const point = (x0: number, size = 4) => Float32Array.from({ length: size }, (_, i) => (i === 0 ? x0 : 0.3));

test('votes follow Φ(δ/σ) per class and sum to n', async () => {
  const f = new HalfSpace();
  const g = new SmoothedClassifier(f, 0.25, 1000);
  const n = 20_000;
  for (const delta of [-0.3, -0.1, 0, 0.05, 0.2]) {
    const counts = await g.votes(point(0.5 + delta), 1, n, Rng.seeded(1));
    assert.equal(counts[0] + counts[1] + counts[2], n);
    assert.equal(counts[2], 0);
    const p = normalCdf(delta / 0.25);
    const se = Math.sqrt(n * p * (1 - p)) || 1;
    assert.ok(Math.abs(counts[1] - n * p) < 5 * se, `δ=${delta}: ${counts[1]} vs ${n * p}`);
  }
});

test('a batch of inputs gets each its own n samples, in input order', async () => {
  const f = new HalfSpace();
  const g = new SmoothedClassifier(f, 0.01, 7); // chunks of 7 cut across inputs
  const xs = new Float32Array([...point(0.9), ...point(0.1), ...point(0.9)]);
  const counts = await g.votes(xs, 3, 10, Rng.seeded(2));
  assert.deepEqual(Array.from(counts), [0, 10, 0, 10, 0, 0, 0, 10, 0]);
  assert.equal(f.passes, 30);
  assert.equal(g.forwardPasses(3, 10), 30);
});

test('σ = 0 is the base model: one forward pass per input, votes all on its label', async () => {
  const f = new HalfSpace();
  const g = new SmoothedClassifier(f, 0, 100);
  const counts = await g.votes(point(0.51), 1, 50, Rng.seeded(3));
  assert.deepEqual(Array.from(counts), [0, 50, 0]);
  assert.equal(f.passes, 1);
  assert.equal(g.forwardPasses(4, 50), 4);
});

test('seeded noise is reproducible, and the input is never modified', async () => {
  const x = point(0.5);
  const copy = x.slice();
  const a = await new SmoothedClassifier(new HalfSpace(), 0.5, 64).votes(x, 1, 999, Rng.seeded(9));
  const b = await new SmoothedClassifier(new HalfSpace(), 0.5, 64).votes(x, 1, 999, Rng.seeded(9));
  assert.deepEqual(a, b);
  assert.deepEqual(x, copy);
});

test('majority: the top count wins, ties to the lowest class', () => {
  assert.equal(decide([3, 5, 2], { rule: 'majority' }), 1);
  assert.equal(decide([4, 4, 2], { rule: 'majority' }), 0);
  assert.equal(decide([0, 4, 4], { rule: 'majority' }), 1);
  assert.equal(argmaxCounts([0, 0, 0]), 0);
});

test("Cohen's PREDICT abstains exactly when the two-sided binomial p-value exceeds α", () => {
  const rule = { rule: 'predict' as const, alpha: 0.001 };
  // 60 vs 40 of 100: p ≈ 0.057 > 0.001 → abstain; 80 vs 20: p ≈ 1e-9 → answer.
  assert.equal(decide([40, 60, 0], rule), ABSTAIN);
  assert.equal(decide([20, 80, 0], rule), 1);
  // The decision boundary follows the test, whatever the third class holds.
  for (let k = 50; k <= 100; k++) {
    const expected = binomTestTwoSided(k, 100, 0.5) > 0.001 ? ABSTAIN : 0;
    assert.equal(decide([k, 100 - k, 7], rule), expected, `k=${k}`);
  }
});

test('CERTIFY bounds p_A by Clopper-Pearson and never certifies beyond the true radius δ', async () => {
  const sigma = 0.25;
  const g = new SmoothedClassifier(new HalfSpace(), sigma, 5000);
  for (const delta of [0.1, 0.3]) {
    const c = await g.certify(point(0.5 + delta), 100, 100_000, 0.001, Rng.seeded(4));
    assert.equal(c.label, 1);
    assert.equal(c.pLower, clopperPearsonLower(c.counts[1], 100_000, 0.001));
    assert.ok(c.radius <= delta, `radius ${c.radius} > δ ${delta}`);
    assert.ok(c.radius > delta - 0.02, `radius ${c.radius} too loose for δ ${delta}`);
    assert.equal(c.selectionCounts[0] + c.selectionCounts[1], 100);
  }
});

test('CERTIFY abstains on the boundary', async () => {
  const g = new SmoothedClassifier(new HalfSpace(), 0.25, 5000);
  const c = await g.certify(point(0.5), 100, 10_000, 0.001, Rng.seeded(5));
  assert.equal(c.label, ABSTAIN);
  assert.equal(c.radius, 0);
  assert.ok(c.pLower < 0.5);
});

test('bad settings are refused', () => {
  assert.throws(() => new SmoothedClassifier(new HalfSpace(), -1, 10), /sigma/);
  assert.throws(() => new SmoothedClassifier(new HalfSpace(), 0.1, 0), /batchSize/);
});
