// The server's cores shared by its models (core-share.ts): a run takes its session's threads only
// when they fit beside the runs in flight, counted across worker threads; otherwise the model's
// one-thread session runs it, with the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { CoreShare, newCoreShare } from '../../../server/src/core-share.js';
import { OnnxModel } from '../../../server/src/model.js';
import { ThreadedModel } from '../../../server/src/model-thread.js';
import { images } from '../../helpers/app.js';

const catalog = loadCatalog();
const resolved = resolveModel(catalog, findModel(catalog, 'fmnist-cnn')!);

test('a run takes its threads when they fit beside those in flight, else one; given back at its end', () => {
  const share = new CoreShare(newCoreShare(4));
  assert.equal(share.take(2), 2);
  assert.equal(share.take(2), 2);
  assert.equal(share.inUse, 4);
  // Full: the next run still runs, on one thread.
  assert.equal(share.take(2), 1);
  assert.equal(share.inUse, 5);
  share.release(2);
  share.release(1);
  // 2 in use: a 2-thread run fits, a 3-thread one does not.
  assert.equal(share.take(3), 1);
  share.release(1);
  assert.equal(share.take(2), 2);
  share.release(2);
  share.release(2);
  assert.equal(share.inUse, 0);
  // Alone, a run takes what it was tuned for, even more threads than cores.
  assert.equal(share.take(8), 8);
  assert.equal(share.take(2), 1);
  share.release(1);
  share.release(8);
  assert.equal(share.inUse, 0);
});

test('the count is shared with other threads: a worker holding the cores is seen here', async () => {
  const handle = newCoreShare(2);
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const busy = new Int32Array(workerData.buffer);
     Atomics.add(busy, 0, 2);
     parentPort.postMessage('taken');
     parentPort.once('message', () => { Atomics.sub(busy, 0, 2); parentPort.postMessage('released'); });`,
    { eval: true, workerData: handle },
  );
  try {
    const next = () => new Promise((resolve) => worker.once('message', resolve));
    assert.equal(await next(), 'taken');
    const share = new CoreShare(handle);
    assert.equal(share.take(2), 1);
    share.release(1);
    worker.postMessage('release');
    assert.equal(await next(), 'released');
    assert.equal(share.take(2), 2);
    share.release(2);
  } finally {
    await worker.terminate();
  }
});

test("a model's run goes to its one-thread session while another model holds the cores, with the same labels", async () => {
  const handle = newCoreShare(2);
  const model = await OnnxModel.load(resolved, { threads: 2, maxBatch: 4096, cores: handle });
  const alone = await OnnxModel.load(resolved, { threads: 2, maxBatch: 4096 });
  try {
    const { values } = images(64);
    const expected = await alone.predict(values, 64);
    // Without a share and with no singleThreadBelow, every run is the 2-thread session's.
    assert.deepEqual(alone.runs, { all: 2, oneThread: 0 }); // the load's probe, then this run
    const before = { ...model.runs };
    assert.deepEqual(await model.predict(values, 64), expected);
    assert.deepEqual(model.runs, { all: before.all + 1, oneThread: before.oneThread });
    // Another model's run holds both cores: this one takes one thread.
    const other = new CoreShare(handle);
    assert.equal(other.take(2), 2);
    assert.deepEqual(await model.predict(values, 64), expected);
    assert.deepEqual(model.runs, { all: before.all + 2, oneThread: before.oneThread + 1 });
    other.release(2);
    assert.deepEqual(await model.predict(values, 64), expected);
    assert.deepEqual(model.runs, { all: before.all + 3, oneThread: before.oneThread + 1 });
    assert.equal(other.inUse, 0);
  } finally {
    await model.close();
    await alone.close();
  }
});

test('a one-thread model in its own thread counts its run while it runs, so other models see the core taken', async () => {
  const handle = newCoreShare(2);
  const model = await ThreadedModel.load(resolved, { threads: 1, maxBatch: 8192, cores: handle });
  try {
    const share = new CoreShare(handle);
    const { values } = images(64);
    const batch = new Float32Array(64 * 40 * 784);
    for (let k = 0; k < 40; k++) batch.set(values, k * values.length);
    let seen = 0;
    const poll = setInterval(() => (seen = Math.max(seen, share.inUse)), 1);
    await model.predict(batch, 64 * 40);
    clearInterval(poll);
    assert.equal(seen, 1);
    assert.equal(share.inUse, 0);
  } finally {
    await model.close();
  }
});
