// Blacklight-style detection on the endpoint: a repeated query is refused and charged (once, also
// when retried with the same Idempotency-Key), the policies (refuse, suspend, random label), the
// admin's list of flagged keys and the evaluator's reset, metrics, removal, bad specs; on Redis:
// replica A then replica B, a restart, and a Redis that is down (503, never an unchecked answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../server/src/app.js';
import { auth, binary, images, testApp, testConfig } from '../../helpers/app.js';
import { needsRedis, startRedis } from '../../helpers/redis.js';

const DETECTOR = { id: 'bl', model: 'fmnist-cnn', defense: [{ name: 'blacklight' }], maxBatch: 16 };

const predict = (app: FastifyInstance, values: Float32Array, headers: Record<string, string> = {}, id = 'bl') => {
  const body = binary(values);
  return app.inject({
    method: 'POST',
    url: `/v1/deployments/${id}/predict`,
    headers: { ...auth('client'), ...body.headers, ...headers },
    payload: body.payload,
  });
};
const used = async (app: FastifyInstance, id = 'bl') =>
  (await app.inject({ url: '/v1/usage', headers: auth('client') })).json().deployments.find((d: { deployment: string }) => d.deployment === id)?.queries ?? 0;
const addDeployment = (app: FastifyInstance, spec: object) =>
  app.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: spec });

test('the same image twice with the same key: the second is refused (403 query_refused) and charged; other images pass', async () => {
  const app = await testApp({ deployments: [DETECTOR, { id: 'plain', model: 'fmnist-cnn' }] });
  try {
    const a = images(1, 0).values;
    const first = await predict(app, a);
    assert.equal(first.statusCode, 200);
    const second = await predict(app, a);
    assert.equal(second.statusCode, 403);
    assert.equal(second.json().error, 'query_refused');
    assert.match(second.json().message, /refused and charged/);
    assert.equal(await used(app), 2, 'the refused query is charged');
    // Ten other test images each pass (benign traffic is not flagged).
    for (let i = 1; i <= 10; i++) assert.equal((await predict(app, images(1, i).values)).statusCode, 200, `image ${i}`);
    // A query at an HSJA probe's distance (1e-4 per pixel) from image 0 is a near-duplicate.
    const probe = a.map((v, j) => Math.min(1, Math.max(0, v + (j % 2 ? 1e-4 : -1e-4))));
    assert.equal((await predict(app, probe)).statusCode, 403);
    // The admin sees the flagged key; the metrics count the detections.
    const list = (await app.inject({ url: '/v1/admin/deployments/bl/detections', headers: auth('admin') })).json();
    assert.deepEqual(list, { deployment: 'bl', keys: [{ key: 'client', detections: 2, suspended: false }] });
    const metrics = (await app.inject({ url: '/metrics', headers: auth('admin') })).body;
    assert.match(metrics, /rs_arena_detections_total\{deployment="bl",action="refused"\} 2/);
    // A client may not read or reset the detector; an evaluator resets it, then the image passes again.
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/deployments/bl/detections', headers: auth('client') })).statusCode, 403);
    const reset = await app.inject({ method: 'DELETE', url: '/v1/deployments/bl/detections?key=client', headers: auth('evaluator') });
    assert.deepEqual(reset.json(), { reset: 1 });
    assert.equal((await predict(app, a)).statusCode, 200);
    // A deployment without a detector has nothing to list.
    const none = await app.inject({ url: '/v1/admin/deployments/plain/detections', headers: auth('admin') });
    assert.equal(none.statusCode, 400);
    assert.match(none.json().message, /has no detector/);
  } finally {
    await app.close();
  }
});

test('a refused query retried with the same Idempotency-Key is charged once and refused again', async () => {
  const app = await testApp({ deployments: [DETECTOR] });
  try {
    const x = images(1, 3).values;
    assert.equal((await predict(app, x)).statusCode, 200);
    const refused = await predict(app, x, { 'idempotency-key': 'retry-0123456789' });
    assert.equal(refused.statusCode, 403);
    const retry = await predict(app, x, { 'idempotency-key': 'retry-0123456789' });
    assert.equal(retry.statusCode, 403);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body, refused.body);
    assert.equal(await used(app), 2, 'the retry is not charged again');
  } finally {
    await app.close();
  }
});

test('policies: suspend the key after k detections; answer a random label; a batch with a repeat', async () => {
  const app = await testApp({
    deployments: [
      { ...DETECTOR, id: 'susp', defense: [{ name: 'blacklight', policy: 'suspend', suspendAfter: 2 }] },
      { ...DETECTOR, id: 'rand', defense: [{ name: 'blacklight', policy: 'random-label' }] },
    ],
  });
  try {
    const x = images(1, 5).values;
    assert.equal((await predict(app, x, {}, 'susp')).statusCode, 200);
    assert.equal((await predict(app, x, {}, 'susp')).json().error, 'query_refused');
    const now = await predict(app, x, {}, 'susp');
    assert.match(now.json().message, /now suspended/);
    const fresh = await predict(app, images(1, 9).values, {}, 'susp');
    assert.equal(fresh.statusCode, 403);
    assert.equal(fresh.json().error, 'key_suspended');
    const list = (await app.inject({ url: '/v1/admin/deployments/susp/detections', headers: auth('admin') })).json();
    assert.deepEqual(list.keys, [{ key: 'client', detections: 2, suspended: true }]);
    assert.equal(await used(app, 'susp'), 4, 'every refused query was charged');
    // Random label: a repeat inside one batch is answered (a label), charged like the rest.
    const batch = new Float32Array(3 * 784);
    batch.set(images(1, 7).values, 0);
    batch.set(images(1, 8).values, 784);
    batch.set(images(1, 7).values, 2 * 784);
    const answered = await predict(app, batch, {}, 'rand');
    assert.equal(answered.statusCode, 200);
    const labels = answered.json().labels as number[];
    assert.equal(labels.length, 3);
    assert.ok(labels.every((l) => l >= 0 && l < 10));
    assert.equal(await used(app, 'rand'), 3);
    const flagged = (await app.inject({ url: '/v1/admin/deployments/rand/detections', headers: auth('admin') })).json();
    assert.deepEqual(flagged.keys, [{ key: 'client', detections: 1, suspended: false }]);
  } finally {
    await app.close();
  }
});

test('bad specs are 400 naming the field and create nothing; removing a deployment forgets what its detector saw', async () => {
  const app = await testApp({ deployments: [] });
  try {
    const bad = [
      [{ defense: [{ name: 'blacklight', treshold: 20 }] }, /defense "blacklight": defense\[0\]\.treshold: unknown field \(did you mean "threshold"\?\)/],
      [{ defense: [{ name: 'blacklight', threshold: 0 }] }, /defense\[0\]\.threshold:/],
      [{ defense: [{ name: 'blacklight', threshold: 60 }] }, /defense\[0\]\.threshold: .*at most keep/],
      [{ defense: [{ name: 'blacklight', policy: 'ban' }] }, /defense\[0\]\.policy:/],
      [{ defense: [{ name: 'blacklight', window: 5000 }] }, /window: 5000 exceeds the model's 784/],
      [
        { defense: [{ name: 'gaussian', sigma: 0.25, n: 10 }, { name: 'blacklight' }] },
        /defense\[1\]: "blacklight" screens queries and must come before "gaussian"/,
      ],
      [{ defense: [{ name: 'blacklist' }] }, /defense\[0\]: unknown defense "blacklist"/],
    ] as const;
    for (const [extra, message] of bad) {
      const res = await addDeployment(app, { id: 'x', model: 'fmnist-cnn', ...extra });
      assert.equal(res.statusCode, 400, JSON.stringify(extra));
      assert.match(res.json().message, message);
    }
    assert.deepEqual((await app.inject({ url: '/v1/admin/deployments', headers: auth('admin') })).json().deployments, [], 'nothing created');
    // Detector in front of RS: the chain the issue names.
    const ok = await addDeployment(app, { id: 'x', model: 'fmnist-cnn', defense: ['blacklight', 'gaussian'], sigma: 0.25, n: 10, disclose: true });
    assert.equal(ok.statusCode, 201, ok.body);
    const info = (await app.inject({ url: '/v1/deployments/x', headers: auth('client') })).json();
    assert.equal(info.defense, 'blacklight > gaussian');
    assert.deepEqual(info.smoothing, { sigma: 0.25, n: 10, rule: 'majority' });
    assert.deepEqual(
      info.stages.map((st: { name: string }) => st.name),
      ['blacklight', 'gaussian'],
    );
    assert.equal(info.stages[0].settings.threshold, 40, 'a 784-value input resolves the default threshold to 40 (defaultThreshold)');
    const hidden = await addDeployment(app, { id: 'h', model: 'fmnist-cnn', defense: [{ name: 'blacklight', threshold: 30 }], disclose: false });
    assert.equal(hidden.statusCode, 201, hidden.body);
    const hiddenInfo = (await app.inject({ url: '/v1/deployments/h', headers: auth('client') })).json();
    assert.equal(hiddenInfo.stages, undefined);
    assert.equal(hiddenInfo.defense, undefined);
    const x = images(1, 11).values;
    assert.equal((await predict(app, x, {}, 'x')).statusCode, 200);
    assert.equal((await predict(app, x, {}, 'x')).statusCode, 403);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/admin/deployments/x', headers: auth('admin') })).statusCode, 200);
    assert.equal((await addDeployment(app, { id: 'x', model: 'fmnist-cnn', defense: ['blacklight'] })).statusCode, 201);
    assert.equal((await predict(app, x, {}, 'x')).statusCode, 200, 'a new deployment of the same id starts afresh');
  } finally {
    await app.close();
  }
});

test('on Redis: refused on replica B after replica A saw it, after a restart, and 503 while Redis is down', needsRedis, async () => {
  const redis = await startRedis();
  const replica = () => buildApp({ ...testConfig({ deployments: [DETECTOR] }), redisUrl: redis.url }, { logger: false });
  let [a, b] = [await replica(), await replica()];
  try {
    const x = images(1, 20).values;
    assert.equal((await predict(a, x)).statusCode, 200);
    const onB = await predict(b, x);
    assert.equal(onB.statusCode, 403, onB.body);
    assert.equal(await used(a), 2);
    // A refused query retried on the other replica with the same Idempotency-Key: the same refusal, charged once.
    const y = images(1, 22).values;
    assert.equal((await predict(a, y)).statusCode, 200);
    const refused = await predict(a, y, { 'idempotency-key': 'replica-retry-0123' });
    const retried = await predict(b, y, { 'idempotency-key': 'replica-retry-0123' });
    assert.equal(refused.statusCode, 403);
    assert.equal(retried.statusCode, 403);
    assert.equal(retried.headers['idempotent-replayed'], 'true');
    assert.equal(await used(b), 4, 'the retry on B was not charged again');
    // Across keys with scope 'global' is tested below; a restart keeps the fingerprints.
    await Promise.all([a.close(), b.close()]);
    [a, b] = [await replica(), await replica()];
    assert.equal((await predict(b, x)).statusCode, 403, 'fingerprints survive a restart');
    const flagged = (await a.inject({ url: '/v1/admin/deployments/bl/detections', headers: auth('admin') })).json();
    assert.deepEqual(flagged.keys, [{ key: 'client', detections: 3, suspended: false }]);
    await redis.stop();
    const down = await predict(a, images(1, 21).values);
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().error, 'state_store_unavailable');
  } finally {
    await Promise.all([a.close(), b.close()]);
    await redis.destroy();
  }
});

test('scope global: a query repeated by another key is refused', async () => {
  const app = await testApp({ deployments: [{ ...DETECTOR, defense: [{ name: 'blacklight', scope: 'global' }] }] });
  try {
    const x = images(1, 30).values;
    const body = binary(x);
    const asEvaluator = await app.inject({
      method: 'POST',
      url: '/v1/deployments/bl/predict',
      headers: { ...auth('evaluator'), ...body.headers },
      payload: body.payload,
    });
    assert.equal(asEvaluator.statusCode, 200);
    assert.equal((await predict(app, x)).statusCode, 403);
  } finally {
    await app.close();
  }
});
