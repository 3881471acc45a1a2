// The smoothed classifier against a base classifier whose smoothed probabilities are known in
// closed form: a half-space f(x) = [x₀ > ½]. For x₀ = ½ + δ the noisy vote for class 1 has
// probability Φ(δ/σ), and g_σ's boundary is f's (a linear f is its own smoothing), so the true
// certified radius is exactly δ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@rs-arena/shared/rng';
import { normalCdf, clopperPearsonLower, binomTestTwoSided } from '@rs-arena/shared/stats';
import { MAX_SCRATCH_VALUES, NoiseSource } from '@rs-arena/shared/noise';
import { SmoothedClassifier, ABSTAIN, Cancelled, decide, argmaxCounts, type BaseClassifier } from '../../../server/src/smoothing.js';
import { Scheduler } from '../../../server/src/scheduler.js';

class HalfSpace implements BaseClassifier {
  readonly classes = 3; // class 2 is never predicted: it must get no votes
  calls = 0;
  passes = 0;
  largest = 0;
  constructor(readonly inputSize = 4) {}
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.calls++;
    this.passes += count;
    this.largest = Math.max(this.largest, count);
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

test('chunks of noisy copies never exceed the noise scratch cap, whatever batchSize says', async () => {
  // An ImageNet-sized input: 4096 copies would need 2.4 GB of scratch (and failed at 36 inputs × n = 100).
  const size = 3 * 224 * 224;
  const f = new HalfSpace(size);
  // The model's scheduler forms the runs: ask it for 4096 copies per run too.
  const g = new SmoothedClassifier(f, 0.25, 4096, { scheduler: new Scheduler(f, { batchSize: 4096 }) });
  const counts = await g.votes(new Float32Array(size * 2).fill(0.9), 2, 100, NoiseSource.seeded(1));
  assert.equal(f.passes, 200);
  assert.equal(f.largest, Math.floor(MAX_SCRATCH_VALUES / size));
  assert.equal(counts[1] + counts[0], 100);
  const noise = NoiseSource.seeded(2);
  assert.throws(() => noise.scratch(MAX_SCRATCH_VALUES + 1), /exceeds the cap/);
  // A copied fill larger than the cap runs in pieces, aligned to the mean vector.
  const piece = Math.floor(MAX_SCRATCH_VALUES / 7) * 7;
  const big = noise.fillNormal(
    new Float32Array(piece + 3 * 7),
    Float32Array.from({ length: 7 }, (_, i) => i * 100),
    0.001,
  );
  for (const at of [0, piece - 1, piece, piece + 20]) assert.ok(Math.abs(big[at] - (at % 7) * 100) < 0.01, `element ${at}: ${big[at]}`);
});

test('an aborted signal stops the votes at the next chunk and reports the passes spent', async () => {
  const f = new HalfSpace();
  const g = new SmoothedClassifier(f, 0.25, 100);
  const controller = new AbortController();
  const original = f.predict.bind(f);
  f.predict = async (batch, count) => {
    if (f.calls === 3) controller.abort();
    return original(batch, count);
  };
  const err = await g.votes(point(0.6), 1, 1_000_000, Rng.seeded(6), controller.signal).catch((e) => e);
  assert.ok(err instanceof Cancelled, String(err));
  assert.equal(err.forwardPasses, 400);
  assert.equal(f.passes, 400);
  // The next call on the same classifier is not blocked by the cancelled one.
  assert.equal((await g.votes(point(0.9), 1, 10, Rng.seeded(7)))[1], 10);
  const aborted = AbortSignal.abort();
  assert.ok((await g.certify(point(0.9), 10, 10, 0.001, Rng.seeded(8), aborted).catch((e) => e)) instanceof Cancelled);
});
