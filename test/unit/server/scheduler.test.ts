// The model's scheduler: copies of concurrent requests share onnxruntime runs, keys are served
// round-robin (a flood from one key does not hold back another key's query), cancelled work leaves
// the queue, and seeded streams answer as a plain sequential draw would. A base model whose answer
// is known exactly (f(x) = [x₀ > ½]) and that records every run stands in for onnxruntime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoiseSource } from '@rs-arena/shared/noise';
import { Rng } from '@rs-arena/shared/rng';
import { type NoisyCopies, Scheduler } from '../../../server/src/scheduler.js';
import { Cancelled, SmoothedClassifier, type BaseClassifier } from '../../../server/src/smoothing.js';

/** f(x) = [x₀ > ½] that records each run; a run completes on the next turn of the event loop, as onnxruntime-node's does. */
class Recording implements BaseClassifier {
  readonly classes = 2;
  readonly inputSize = 4;
  readonly runs: number[] = [];
  /** Per run, the first value of each copy (to tell whose copy it was). */
  readonly firsts: Float32Array[] = [];
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.runs.push(count);
    this.firsts.push(Float32Array.from({ length: count }, (_, i) => batch[i * this.inputSize]));
    const labels = Int32Array.from({ length: count }, (_, i) => (batch[i * this.inputSize] > 0.5 ? 1 : 0));
    await new Promise((r) => setImmediate(r));
    return labels;
  }
}

const point = (x0: number) => Float32Array.from([x0, 0.3, 0.3, 0.3]);

test('copies of concurrent requests on two deployments of one model share one run', async () => {
  const f = new Recording();
  const sched = new Scheduler(f, { batchSize: 64 });
  const a = new SmoothedClassifier(f, 0.01, 500, { ordered: false, scheduler: sched });
  const b = new SmoothedClassifier(f, 0.01, 500, { ordered: false, scheduler: sched });
  const [va, vb] = await Promise.all([a.votes(point(0.9), 1, 20, NoiseSource.seeded(1)), b.votes(point(0.1), 1, 30, NoiseSource.seeded(2))]);
  assert.deepEqual(f.runs, [50], 'one run of both requests’ copies');
  assert.deepEqual(Array.from(va), [0, 20]);
  assert.deepEqual(Array.from(vb), [30, 0]);
  assert.equal(sched.pending, 0);
});

test("a flood of large requests from one key does not hold back another key's small query", async () => {
  const f = new Recording();
  const sched = new Scheduler(f, { batchSize: 64 });
  const g = new SmoothedClassifier(f, 0.01, 500, { ordered: false, scheduler: sched });
  const noise = NoiseSource.fromCrypto();
  const done: string[] = [];
  // Key A: ten requests of 8 inputs × n = 64 (5,120 copies, 80 full runs) queued first.
  const flood = Array.from({ length: 10 }, (_, i) =>
    g.votes(new Float32Array(8 * 4).fill(0.9), 8, 64, noise, undefined, { key: 'A' }).then(() => done.push(`A${i}`)),
  );
  await new Promise((r) => setImmediate(r));
  const runsBefore = f.runs.length;
  // Key B's single query arrives behind all of it (x₀ = 0.1, so its copies are told apart).
  const small = g.votes(point(0.1), 1, 100, noise, undefined, { key: 'B' }).then((c) => {
    done.push('B');
    return { counts: c, runs: f.runs.length - runsBefore };
  });
  const b = await small;
  assert.deepEqual(Array.from(b.counts), [100, 0]);
  // Two keys share each run: B's 100 copies take 32 a run, so it is answered within 4 runs (+1 already running).
  assert.ok(b.runs <= 5, `B answered after ${b.runs} runs`);
  assert.ok(done.indexOf('B') <= 1, `B finished ${done.indexOf('B') + 1}th of the 11 requests: ${done.join(' ')}`);
  const shares = f.firsts
    .slice(runsBefore)
    .map((firsts) => firsts.filter((v) => v < 0.5).length)
    .filter((k) => k > 0);
  assert.deepEqual(shares, [32, 32, 32, 4], "B's copies: half of each run of 64 while both keys wait");
  await Promise.all(flood);
  assert.equal(
    f.runs.reduce((a, b) => a + b, 0),
    10 * 8 * 64 + 100,
    'every copy ran once',
  );
  assert.equal(sched.pending, 0);
});

test('a cancelled request leaves the queue: no further copies of it run, and it reports the passes it was given', async () => {
  const f = new Recording();
  const sched = new Scheduler(f, { batchSize: 50 });
  const g = new SmoothedClassifier(f, 0.01, 500, { ordered: false, scheduler: sched });
  const noise = NoiseSource.fromCrypto();
  const controller = new AbortController();
  const big = g.votes(point(0.1), 1, 100_000, noise, controller.signal, { key: 'A' }).catch((e) => e);
  const other = g.votes(point(0.9), 1, 500, noise, undefined, { key: 'B' });
  while (f.runs.length < 4) await new Promise((r) => setImmediate(r));
  controller.abort();
  const err = await big;
  assert.ok(err instanceof Cancelled, String(err));
  assert.equal(sched.pending, 1, 'only the other request is left');
  assert.deepEqual(Array.from(await other), [0, 500], 'the other request is unaffected');
  const copiesOfBig = f.firsts.reduce((n, firsts) => n + firsts.filter((v) => v < 0.5).length, 0);
  assert.equal(err.forwardPasses, copiesOfBig, 'the passes reported are the copies the model received');
  assert.ok(copiesOfBig < 500, `${copiesOfBig} copies of the cancelled request ran`);
  const runs = f.runs.length;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(f.runs.length, runs, 'nothing runs after the queue emptied');
  assert.equal(sched.pending, 0);
});

test('a seeded stream answers as one sequential draw would, whatever shares its runs', async () => {
  const sigma = 0.5;
  const n = 37;
  const xs = [point(0.45), point(0.55), point(0.5)];
  // The reference: each request's copies drawn in order from one stream, classified alone.
  const ref = NoiseSource.seeded(42);
  const expected = xs.map((x) => {
    const copies = ref.fillNormal(new Float32Array(n * 4), x, sigma);
    let ones = 0;
    for (let c = 0; c < n; c++) if (copies[c * 4] > 0.5) ones++;
    return [n - ones, ones];
  });
  // Runs cut across requests: of a fixed size, and of a size that follows the backlog (two instances).
  for (const options of [{ batchSize: 16 }, { batchSize: 16, maxBatchSize: 48, instances: 2, depth: 4 }]) {
    const f = new Recording();
    const sched = new Scheduler(f, options);
    const seeded = new SmoothedClassifier(f, sigma, 500, { ordered: true, scheduler: sched });
    const noisy = new SmoothedClassifier(f, sigma, 500, { ordered: false, scheduler: sched });
    const stream = NoiseSource.seeded(42);
    // The three seeded requests at once, from two keys, among another deployment's traffic.
    const other = Array.from({ length: 5 }, (_, i) =>
      noisy.votes(new Float32Array(12).fill(0.2), 3, 20, NoiseSource.fromCrypto(), undefined, { key: `k${i}` }),
    );
    const answers = await Promise.all(xs.map((x, i) => seeded.votes(x, 1, n, stream, undefined, { key: i === 1 ? 'B' : 'A' })));
    await Promise.all(other);
    assert.deepEqual(
      answers.map((c) => Array.from(c)),
      expected,
      JSON.stringify(options),
    );
    assert.ok(
      f.runs.some((k) => k >= 16),
      'runs were shared',
    );
  }
});

test('early-stopping votes decide each input exactly where the full vote would be decided', async () => {
  const f = new Recording();
  const sched = new Scheduler(f, { batchSize: 64 });
  const g = new SmoothedClassifier(f, 0.2, 500, { ordered: false, scheduler: sched });
  const n = 100;
  const stop = { label: 1, wrong: 50 };
  // x₀ far above ½ (label 1 nearly always), far below (0 nearly always), on the boundary.
  const xs = new Float32Array([...point(0.9), ...point(0.1), ...point(0.5), ...point(0.55)]);
  const { counts, passes } = await g.tally(xs, 4, n, NoiseSource.seeded(3), undefined, { stop });
  for (let i = 0; i < 4; i++) {
    const right = counts[i * 2 + 1];
    const wrong = counts[i * 2];
    assert.equal(right + wrong, passes[i]);
    assert.ok(passes[i] <= n);
    // Decided exactly: either k wrong votes (adversarial whatever the rest), or n − k + 1 right ones (never).
    assert.ok(
      (wrong === stop.wrong && right <= n - stop.wrong) || (right === n - stop.wrong + 1 && wrong < stop.wrong),
      `input ${i}: ${wrong} wrong, ${right} right`,
    );
  }
  assert.ok(passes[0] < n && passes[1] < n, `clear inputs stop early: ${Array.from(passes)}`);
  assert.equal(passes[0], n - stop.wrong + 1);
  assert.equal(passes[1], stop.wrong);
  assert.equal(
    f.runs.reduce((a, b) => a + b, 0),
    passes.reduce((a, b) => a + b, 0),
    'the passes counted are the passes made',
  );
});

test("the JS generator (whose draws depend on how fills are split) gets a request's old fills, whatever the batch size", async () => {
  const sigma = 0.3;
  const [count, n, batchSize] = [5, 30, 40];
  const xs = new Float32Array(count * 4).map((_, i) => (i % 4 === 0 ? 0.4 + 0.05 * (i / 4) : 0.3));
  // The reference: chunks of batchSize copies in the request's copy order, one fill per input run in a chunk.
  const ref = Rng.seeded(5);
  const expected = new Uint32Array(count * 2);
  for (let start = 0; start < count * n; start += batchSize) {
    for (let s = start; s < Math.min(start + batchSize, count * n); ) {
      const input = Math.floor(s / n);
      const run = Math.min(start + batchSize, (input + 1) * n, count * n) - s;
      const copies = ref.fillNormal(new Float32Array(run * 4), xs.subarray(input * 4, input * 4 + 4), sigma);
      for (let c = 0; c < run; c++) expected[input * 2 + (copies[c * 4] > 0.5 ? 1 : 0)]++;
      s += run;
    }
  }
  // Whatever the run sizes: fixed, or following the backlog.
  for (const options of [{ batchSize: 64 }, { batchSize: 64, maxBatchSize: 256, instances: 2, depth: 4 }]) {
    const f = new Recording();
    const sched = new Scheduler(f, options);
    const g = new SmoothedClassifier(f, sigma, batchSize, { ordered: true, scheduler: sched });
    const other = new SmoothedClassifier(f, sigma, 500, { ordered: false, scheduler: sched });
    const [counts] = await Promise.all([
      g.votes(xs, count, n, Rng.seeded(5), undefined, { key: 'A' }),
      other.votes(point(0.7), 1, 200, NoiseSource.fromCrypto(), undefined, { key: 'B' }),
    ]);
    assert.deepEqual(Array.from(counts), Array.from(expected), JSON.stringify(options));
  }
});

test('a backlog is spread over the instances in runs between the preferred and the largest size; small work keeps the preferred size', async () => {
  // Two runs at once (two instances), preferred 16, at most 64 copies a run.
  const f = new Recording();
  const sched = new Scheduler(f, { batchSize: 16, maxBatchSize: 64, instances: 2, depth: 4 });
  const g = new SmoothedClassifier(f, 0.01, 500, { ordered: false, scheduler: sched });
  const noise = NoiseSource.fromCrypto();
  // A lone n = 100 query: one run per instance (50 + 50), not seven of 16.
  assert.deepEqual(Array.from(await g.votes(point(0.9), 1, 100, noise)), [0, 100]);
  assert.deepEqual(f.runs, [50, 50]);
  // A large job (CERTIFY-like): runs of the largest size while the backlog lasts, every copy once.
  f.runs.length = 0;
  assert.deepEqual(Array.from(await g.votes(point(0.1), 1, 1000, noise)), [1000, 0]);
  assert.equal(
    f.runs.reduce((a, b) => a + b, 0),
    1000,
  );
  assert.ok(
    f.runs.slice(0, 10).every((r) => r === 64),
    `runs: ${f.runs.join(' ')}`,
  );
  assert.ok(f.runs.length <= 1000 / 64 + 3, `${f.runs.length} runs for 1,000 copies`);
  // Eight single-copy queries at once: one run of 8 (below the preferred size nothing is split).
  f.runs.length = 0;
  await Promise.all(Array.from({ length: 8 }, () => g.votes(point(0.9), 1, 1, noise)));
  assert.deepEqual(f.runs, [8]);
  // Without a larger size the old behaviour stands: runs of the preferred size.
  const h = new Recording();
  const fixed = new Scheduler(h, { batchSize: 16, instances: 2, depth: 4 });
  const k = new SmoothedClassifier(h, 0.01, 500, { ordered: false, scheduler: fixed });
  await k.votes(point(0.9), 1, 100, noise);
  assert.deepEqual(h.runs, [16, 16, 16, 16, 16, 16, 4]);
});

/** A Recording that draws the Gaussian copies itself (as a model in its own threads does): it records what it was handed. */
class DrawingModel extends Recording {
  readonly drawsNoise = true;
  readonly handed: { noisy: NoisyCopies[]; slots: number[] }[] = [];
  private readonly noise = Rng.seeded(5);
  override async predict(batch: Float32Array, count: number, _scratch?: boolean, noisy?: NoisyCopies[]): Promise<Int32Array> {
    const d = this.inputSize;
    this.handed.push({ noisy: noisy ?? [], slots: (noisy ?? []).map((s) => batch[s.offset * d]) });
    for (const { offset, copies, sigma } of noisy ?? []) {
      const x = batch.slice(offset * d, (offset + 1) * d);
      this.noise.fillNormal(batch.subarray(offset * d, (offset + copies) * d), x, sigma);
    }
    return super.predict(batch, count);
  }
}

test('unpredictable Gaussian copies go to a model that draws noise as x and σ; seeded ones and other models get filled copies', async () => {
  const f = new DrawingModel();
  const sched = new Scheduler(f, { batchSize: 64, maxBatchSize: 64 });
  const g = new SmoothedClassifier(f, 0.2, 500, { ordered: false, scheduler: sched });
  // x₀ = 0.5 + 0.2·z with z = 0.25: P(f = 1) = Φ(0.25) ≈ 0.599 under the model's own noise.
  const votes = await g.votes(point(0.55), 1, 4000, NoiseSource.fromCrypto());
  assert.equal(votes[0] + votes[1], 4000);
  const share = votes[1] / 4000;
  assert.ok(Math.abs(share - 0.5987) < 0.035, `P(f = 1) ${share} (Φ(0.25) = 0.5987)`);
  // Every copy was handed over: segments of σ = 0.2 covering all 4,000 copies, each slot holding x.
  const segments = f.handed.flatMap((h) => h.noisy);
  assert.equal(
    segments.reduce((a, s) => a + s.copies, 0),
    4000,
  );
  assert.ok(segments.every((s) => s.sigma === 0.2));
  assert.ok(
    f.handed.every((h) => h.slots.every((v) => Math.abs(v - 0.55) < 1e-7)),
    'each segment brings x at its offset',
  );
  // A seeded (ordered) deployment on the same model: filled copies, identical to a plain draw.
  f.handed.length = 0;
  const seeded = new SmoothedClassifier(f, 0.2, 500, { ordered: true, scheduler: sched });
  const a = await seeded.votes(point(0.55), 1, 300, NoiseSource.seeded(9));
  assert.ok(
    f.handed.every((h) => h.noisy.length === 0),
    'no copy of a seeded stream is handed over',
  );
  const plain = new Recording();
  const b = await new SmoothedClassifier(plain, 0.2, 500, { ordered: true }).votes(point(0.55), 1, 300, NoiseSource.seeded(9));
  assert.deepEqual(a, b);
});
