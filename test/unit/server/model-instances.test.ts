// Model instances (Triton's instance groups): k sessions in k threads answer as one session does,
// runs in flight are spread over the instances, and the tuning that asks for them is the one
// measured on this CPU where the file has it (else the default, measured elsewhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { OnnxModel } from '../../../server/src/model.js';
import { ModelInstances } from '../../../server/src/model-instances.js';
import { cpuModel, loadTuning, tuningFor, tuningForMachine } from '../../../server/src/tuning.js';
import { auth, binary, images, testApp } from '../../helpers/app.js';

const catalog = loadCatalog();
const resolved = resolveModel(catalog, findModel(catalog, 'fmnist-cnn')!);

test('two instances answer as one in-process session, labels and probabilities, with runs spread over both threads', async () => {
  const local = await OnnxModel.load(resolved, { maxBatch: 4096 });
  const pool = await ModelInstances.load(resolved, { threads: 1, maxBatch: 4096 }, 2);
  try {
    assert.equal(pool.count, 2);
    const { values } = images(96);
    const expected = await local.predict(values, 96);
    // Three runs at once from one shared buffer: the first two go to different instances.
    const shared = pool.allocate(values.length);
    shared.set(values);
    const inFlight = (pool as unknown as { instances: { inFlight: number }[] }).instances;
    const runs = [pool.predict(shared.subarray(0, 32 * 784), 32), pool.predict(shared.subarray(32 * 784, 64 * 784), 32)];
    assert.deepEqual(
      inFlight.map((i) => i.inFlight),
      [1, 1],
      'the second run went to the idle instance',
    );
    runs.push(pool.predict(shared.subarray(64 * 784), 32));
    const labels = await Promise.all(runs);
    assert.deepEqual(Int32Array.from(labels.flatMap((l) => Array.from(l))), expected);
    assert.deepEqual(shared, values, 'the shared batch is not modified');
    const p = await pool.probabilities(values.subarray(0, 10 * 784), 10);
    const q = await local.probabilities(values.subarray(0, 10 * 784), 10);
    for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) < 1e-5);
  } finally {
    await local.close();
    await pool.close();
  }
});

test('a model that cannot load in one instance fails the whole pool, and the other threads are stopped', async () => {
  const broken = { ...resolved, path: join(tmpdir(), 'no-such-model.onnx') };
  await assert.rejects(ModelInstances.load(broken, { threads: 1 }, 2), /no-such-model|file|load/i);
});

test("tuning keyed by CPU: this CPU's own entry where there is one, else the default measured elsewhere", () => {
  const file = {
    source: 'default',
    models: { 'fmnist-cnn': { threads: 2, batchSize: 16, thread: false } },
    machines: { 'Some Other CPU': { source: 'other', models: { 'fmnist-cnn': { threads: 1, instances: 2, batchSize: 256 } } } },
  };
  const dir = mkdtempSync(join(tmpdir(), 'tuning-'));
  writeFileSync(join(dir, 'tuning.json'), JSON.stringify(file));
  const tuning = loadTuning(join(dir, 'tuning.json'));
  const here = tuningFor('fmnist-cnn', 784, tuning, {}, 'Yet Another CPU');
  assert.deepEqual([here.instances, here.thread, here.scheduler.batchSize, here.model.threads], [1, false, 16, 2]);
  assert.equal(tuningForMachine(tuning, 'Yet Another CPU').measuredHere, false);
  const other = tuningFor('fmnist-cnn', 784, tuning, {}, 'Some Other CPU');
  assert.deepEqual([other.instances, other.thread, other.scheduler.batchSize, other.model.threads], [2, true, 256, 1], 'instances are threads of their own');
  assert.equal(tuningForMachine(tuning, 'Some Other CPU').source, 'other');
  // An operator's explicit threads win over either.
  assert.equal(tuningFor('fmnist-cnn', 784, tuning, { threads: 3 }, 'Some Other CPU').model.threads, 3);
  // Strict, like every config: a misspelt field under machines names it.
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ machines: { x: { models: { m: { instance: 2 } } } } }));
  assert.throws(() => loadTuning(join(dir, 'bad.json')), /machines\.x\.models\.m\.instance: unknown field \(did you mean "instances"\?\)/);
  assert.ok(cpuModel().length > 0);
});

test('a server whose tuning asks for two instances on this CPU serves seeded RS answers identical to one session', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuning-'));
  const file = join(dir, 'tuning.json');
  writeFileSync(file, JSON.stringify({ models: {}, machines: { [cpuModel()]: { models: { 'fmnist-cnn': { threads: 1, instances: 2, batchSize: 64 } } } } }));
  // The comparison's one session is asked for too: the committed tuning may pick instances on this CPU.
  const single = join(dir, 'single.json');
  writeFileSync(single, JSON.stringify({ models: {}, machines: { [cpuModel()]: { models: { 'fmnist-cnn': { threads: 2, batchSize: 64 } } } } }));
  const deployments = [{ id: 'rs', model: 'fmnist-cnn', sigma: 0.25, n: 50, seed: 9, maxBatch: 64, disclose: true }];
  const answers: number[][] = [];
  for (const tuningFile of [file, single]) {
    const app = await testApp({ deployments, tuningFile });
    try {
      const body = binary(images(20).values);
      const r = await app.inject({ method: 'POST', url: '/v1/deployments/rs/predict', payload: body.payload, headers: { ...body.headers, ...auth('client') } });
      assert.equal(r.statusCode, 200, r.body);
      answers.push(r.json().labels);
      const served = (app as unknown as { ctx: { deployments: { get(id: string): { model: object } } } }).ctx.deployments.get('rs').model;
      assert.equal(served instanceof ModelInstances, tuningFile === file, "two instances where this CPU's tuning asks for them, one session where it does not");
    } finally {
      await app.close();
    }
  }
  assert.deepEqual(answers[0], answers[1]);
});
