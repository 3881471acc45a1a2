// The shared state in Redis: two replicas (two buildApp instances on one Redis) share one exact
// budget under 64 racing clients, keys and deployments created on one are served by the other,
// the spent budget survives restarting every replica and Redis (AOF), and a Redis that cannot be
// reached means 503 "state store unavailable" with nothing served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '../../../server/src/app.js';
import { auth, binary, images, testConfig } from '../../helpers/app.js';
import { needsRedis, startRedis, type TestRedis } from '../../helpers/redis.js';

const replica = (redis: TestRedis, budget: number | null) => buildApp({ ...testConfig({}, budget), redisUrl: redis.url }, { logger: false });
const predict = (app: FastifyInstance, headers: Record<string, string> = {}, k = 1) => {
  const body = binary(images(k).values);
  return app.inject({
    method: 'POST',
    url: '/v1/deployments/plain/predict',
    headers: { ...auth('client'), ...body.headers, ...headers },
    payload: body.payload,
  });
};
const used = async (app: FastifyInstance, deployment = 'plain') =>
  (await app.inject({ url: '/v1/usage', headers: auth('client') })).json().deployments.find((d: { deployment: string }) => d.deployment === deployment);

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('two replicas on one Redis share one exact budget under 64 racing clients', needsRedis, async () => {
  const redis = await startRedis();
  const [a, b] = [await replica(redis, 40), await replica(redis, 40)];
  try {
    // 64 clients, each a batch of 1–3 inputs, alternating replicas: 128 queries asked of a budget of 40.
    const sizes = Array.from({ length: 64 }, (_, i) => 1 + (i % 3));
    const results = await Promise.all(sizes.map((k, i) => predict(i % 2 ? a : b, {}, k)));
    for (const r of results) assert.ok([200, 429].includes(r.statusCode), `status ${r.statusCode}`);
    const served = results.reduce((acc, r, i) => acc + (r.statusCode === 200 ? sizes[i] : 0), 0);
    assert.ok(served <= 40, `overrun: ${served} served of 40`);
    assert.ok(served >= 38, `a batch of at most 3 is refused only when under 3 remain; served ${served}`);
    // Both replicas and Redis itself report the count the clients saw.
    assert.equal((await used(a)).queries, served);
    assert.equal((await used(b)).queries, served);
    const direct = new Redis(redis.url);
    assert.equal(Number(await direct.hget('rsa:q:client', 'plain')), served);
    assert.equal(await direct.ttl('rsa:q:client'), -1, 'ledger keys never expire');
    direct.disconnect();
  } finally {
    await Promise.all([a.close(), b.close()]);
    await redis.destroy();
  }
});

test('keys, budgets and deployments created on one replica are served by the other', needsRedis, async () => {
  const redis = await startRedis();
  const [a, b] = [await replica(redis, null), await replica(redis, null)];
  try {
    const spec = { id: 'runtime-dep', model: 'fmnist-cnn', sigma: 0.1, n: 3, seed: 5 };
    assert.equal((await a.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: spec })).statusCode, 201);
    const body = binary(images(2).values);
    const onB = () =>
      b.inject({ method: 'POST', url: '/v1/deployments/runtime-dep/predict', headers: { ...auth('client'), ...body.headers }, payload: body.payload });
    await until(async () => (await onB()).statusCode === 200, 'replica B to serve the deployment added on A');

    const key = (
      await a.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { id: 'red-team', role: 'client', budgets: { plain: 2 } } })
    ).json();
    const asRedTeam = (app: FastifyInstance) => predict(app, { authorization: `Bearer ${key.secret}` });
    await until(async () => (await asRedTeam(b)).statusCode === 200, 'replica B to accept the key created on A');
    assert.equal((await asRedTeam(a)).statusCode, 200);
    assert.equal((await asRedTeam(b)).statusCode, 429, 'the budget of 2 is shared');
    assert.equal(
      (await b.inject({ method: 'PUT', url: '/v1/admin/keys/red-team/budgets', headers: auth('admin'), payload: { deployment: 'plain', limit: 3 } }))
        .statusCode,
      200,
    );
    await until(async () => (await asRedTeam(a)).statusCode === 200, 'replica A to apply the budget raised on B');
    assert.equal((await asRedTeam(b)).statusCode, 429);

    assert.equal((await b.inject({ method: 'DELETE', url: '/v1/admin/deployments/runtime-dep', headers: auth('admin') })).statusCode, 200);
    await until(async () => !a.ctx.deployments.has('runtime-dep'), 'replica A to drop the deployment removed on B');
    assert.equal((await a.inject({ method: 'DELETE', url: '/v1/admin/keys/red-team', headers: auth('admin') })).statusCode, 200);
    await until(async () => (await asRedTeam(b)).statusCode === 401, 'replica B to refuse the key revoked on A');

    // A replica started later loads what was created at runtime.
    await a.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: { ...spec, id: 'late' } });
    const c = await replica(redis, null);
    try {
      assert.ok(c.ctx.deployments.has('late'));
      assert.ok(!c.ctx.deployments.has('runtime-dep'));
    } finally {
      await c.close();
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
    await redis.destroy();
  }
});

test('after restarting every replica and Redis (AOF), the spent budget is still spent', needsRedis, async () => {
  const redis = await startRedis({ aof: true });
  try {
    let [a, b] = [await replica(redis, 5), await replica(redis, 5)];
    const key = (
      await a.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { id: 'kept', role: 'client', budgets: { '*': 9 } } })
    ).json();
    const spec = { id: 'kept-dep', model: 'fmnist-cnn', sigma: 0 };
    await a.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: spec });
    assert.equal((await predict(a, {}, 3)).statusCode, 200);
    assert.equal((await predict(b, {}, 2)).statusCode, 200);
    assert.equal((await predict(b)).statusCode, 429);
    await Promise.all([a.close(), b.close()]);
    await redis.restart();
    [a, b] = [await replica(redis, 5), await replica(redis, 5)];
    try {
      assert.equal((await used(a)).queries, 5);
      assert.equal((await used(b)).rejected, 1);
      assert.equal((await predict(a)).statusCode, 429, 'a budget of 5 spent before the restart stays spent');
      assert.equal((await predict(b)).statusCode, 429);
      // The runtime key and deployment came back too.
      assert.ok(b.ctx.deployments.has('kept-dep'));
      assert.equal((await predict(b, { authorization: `Bearer ${key.secret}` })).statusCode, 200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  } finally {
    await redis.destroy();
  }
});

test('Redis unreachable: 503 "state store unavailable", nothing served; service resumes when it is back', needsRedis, async () => {
  const redis = await startRedis();
  const app = await replica(redis, 10);
  try {
    assert.equal((await predict(app)).statusCode, 200);
    await redis.stop();
    const started = Date.now();
    const down = await predict(app);
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().error, 'state_store_unavailable');
    assert.match(down.json().message, /state store unavailable/);
    assert.ok(!('labels' in down.json()), 'no labels without a charge');
    assert.ok(Date.now() - started < 5_000, 'fails fast, not queued');
    assert.equal((await app.inject({ url: '/v1/usage', headers: auth('client') })).statusCode, 503);
    await redis.restart();
    await until(async () => (await predict(app)).statusCode === 200, 'service to resume', 15_000);
    // Redis came back empty (no persistence in this test): the one query answered since, and nothing for the 503s.
    assert.equal((await used(app)).queries, 1);
  } finally {
    await app.close();
    await redis.destroy();
  }
});

test('a server whose Redis cannot be reached at start refuses to start', needsRedis, async () => {
  await assert.rejects(buildApp({ ...testConfig(), redisUrl: 'redis://127.0.0.1:1' }, { logger: false }), /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
});

test('idempotent retries through Redis: the same answer on either replica, charged once', needsRedis, async () => {
  const redis = await startRedis();
  const [a, b] = [await replica(redis, 100), await replica(redis, 100)];
  try {
    const body = binary(images(4).values);
    const send = (app: FastifyInstance, id: string, deployment = 'rs') =>
      app.inject({
        method: 'POST',
        url: `/v1/deployments/${deployment}/predict`,
        headers: { ...auth('client'), ...body.headers, 'idempotency-key': id },
        payload: body.payload,
      });
    const first = await send(a, 'request-0001');
    const again = await send(b, 'request-0001');
    assert.equal(first.statusCode, 200);
    assert.equal(again.statusCode, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json().labels, first.json().labels);
    assert.equal((await used(a, 'rs')).queries, 4);
    assert.equal((await send(a, 'request-0002')).statusCode, 200);
    assert.equal((await used(b, 'rs')).queries, 8);
    assert.equal((await send(a, 'request-0001', 'plain')).statusCode, 422, 'the same id for another request is refused');
  } finally {
    await Promise.all([a.close(), b.close()]);
    await redis.destroy();
  }
});
