// The model in its own thread answers exactly as the in-process session, from shared or plain
// memory, and leaves the event loop free while a batch runs (in-process, a run holds it); Gaussian
// copies it draws itself vote as copies drawn on the event loop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { OnnxModel } from '../../../server/src/model.js';
import { ThreadedModel } from '../../../server/src/model-thread.js';
import { Scheduler } from '../../../server/src/scheduler.js';
import { SmoothedClassifier } from '../../../server/src/smoothing.js';
import { NoiseSource } from '@rs-arena/shared/noise';
import { images } from '../../helpers/app.js';

const catalog = loadCatalog();
const resolved = resolveModel(catalog, findModel(catalog, 'fmnist-cnn')!);
let local: OnnxModel;
let threaded: ThreadedModel;
before(async () => {
  local = await OnnxModel.load(resolved, { maxBatch: 4096 });
  threaded = await ThreadedModel.load(resolved, { maxBatch: 4096 });
});
after(async () => {
  await local.close();
  await threaded.close();
});

test('the thread answers as the in-process session, from shared and from plain memory, and leaves the batch as it was', async () => {
  const { values } = images(64);
  const expected = await local.predict(values, 64);
  assert.deepEqual(await threaded.predict(values, 64), expected);
  const shared = threaded.allocate(values.length);
  shared.set(values);
  // Two runs in flight at once, both from shared memory.
  const [a, b] = await Promise.all([threaded.predict(shared, 64), threaded.predict(shared.subarray(0, 32 * 784), 32)]);
  assert.deepEqual(a, expected);
  assert.deepEqual(b, expected.subarray(0, 32));
  assert.deepEqual(shared, values, 'the shared batch is not modified');
});

test('the event loop keeps turning while the thread runs a batch', async () => {
  const batch = new Float32Array(2048 * 784).fill(0.5);
  const turnsDuring = async (run: () => Promise<unknown>) => {
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await run();
    done = true;
    return turns;
  };
  const inProcess = await turnsDuring(() => local.predict(batch, 2048));
  const inThread = await turnsDuring(() => threaded.predict(batch, 2048));
  assert.ok(inThread > 10 * Math.max(1, inProcess), `event loop turns during the run: ${inThread} (thread) vs ${inProcess} (in-process)`);
});

test('a model that runs small batches on a one-thread session answers as one that does not', async () => {
  const split = await OnnxModel.load(resolved, { threads: 2, spinning: false, singleThreadBelow: 16 });
  try {
    const { values } = images(64);
    assert.deepEqual(await split.predict(values, 64), await local.predict(values, 64));
    for (let i = 0; i < 8; i++)
      assert.deepEqual(
        await split.predict(values.subarray(i * 8 * 784, (i + 1) * 8 * 784), 8),
        await local.predict(values.subarray(i * 8 * 784, (i + 1) * 8 * 784), 8),
      );
  } finally {
    await split.close();
  }
});

test('class probabilities (the gated defense scores): in-process and in the thread alike, rows sum to 1, argmax is the label', async () => {
  const { values } = images(16);
  const labels = await local.predict(values, 16);
  const p = await local.probabilities(values, 16);
  const q = await threaded.probabilities(values, 16);
  assert.deepEqual(Array.from(q), Array.from(p));
  for (let i = 0; i < 16; i++) {
    const row = Array.from(p.subarray(i * 10, (i + 1) * 10));
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(row.indexOf(Math.max(...row)), labels[i]);
  }
  assert.deepEqual(Array.from(values.subarray(0, 784)), Array.from(images(1).values), 'the batch is left as it was');
});

test('Gaussian copies drawn in the thread (x and σ handed over) vote as copies drawn on the event loop', async () => {
  // Unpredictable noise on both sides: the same distribution of votes, not the same votes. Per
  // image and class, the two shares of n = 2,000 votes differ by less than 5 standard errors.
  const { values } = images(3);
  const n = 2000;
  const sigma = 0.5;
  const inThread = new SmoothedClassifier(threaded, sigma, 4096, { ordered: false, scheduler: new Scheduler(threaded, { batchSize: 256 }) });
  const onLoop = new SmoothedClassifier(local, sigma, 4096, { ordered: false });
  const a = await inThread.votes(values, 3, n, NoiseSource.fromCrypto());
  const b = await onLoop.votes(values, 3, n, NoiseSource.fromCrypto());
  let spread = 0;
  for (let k = 0; k < a.length; k++) {
    const [p, q] = [a[k] / n, b[k] / n];
    const pooled = (a[k] + b[k]) / (2 * n);
    assert.ok(
      Math.abs(p - q) <= 5 * Math.sqrt((pooled * (1 - pooled) * 2) / n) + 1e-9,
      `image ${Math.floor(k / 10)}, class ${k % 10}: ${p} in the thread vs ${q}`,
    );
    if (p > 0 && p < 1) spread++;
  }
  assert.ok(spread >= 2, 'σ = 0.5 splits some votes (the noise was drawn)');
});
