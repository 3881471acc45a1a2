// Two server processes on one Redis, 64 clients racing one budget across them: no query beyond the
// budget, and the clients' count equals the ledger's. Then a replica killed with SIGKILL mid-race:
// every query a client got an answer for was charged (answered ≤ charged ≤ budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRedis, startRedis } from '../helpers/redis.js';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { RACE_KEYS, race, startReplicas } from '../helpers/replicas.js';
import { images } from '../helpers/app.js';

test('64 clients racing one budget across two replica processes: overrun 0, client count = server count', { ...needsRedis, timeout: 300_000 }, async () => {
  const redis = await startRedis();
  const replicas = await startReplicas(redis.url, 2, 600).catch(async (err) => {
    await redis.destroy();
    throw err;
  });
  try {
    const r = await race(
      redis.url,
      replicas.servers.map((s) => s.url),
      { clients: 64, budget: 600 },
    );
    assert.equal(r.overrun, 0);
    assert.equal(r.answered, r.charged, 'every charged query was answered and every answered one charged');
    assert.equal(r.charged, 600, 'the clients kept going until the budget was spent exactly');
    assert.equal(r.requests.failed, 0);
  } finally {
    await replicas.stop();
    await redis.destroy();
  }
});

test('a replica killed with SIGKILL mid-race: no query answered without being charged', { ...needsRedis, timeout: 300_000 }, async () => {
  const redis = await startRedis();
  const replicas = await startReplicas(redis.url, 2, 600).catch(async (err) => {
    await redis.destroy();
    throw err;
  });
  try {
    const [victim] = replicas.servers;
    const r = await race(
      redis.url,
      replicas.servers.map((s) => s.url),
      {
        clients: 64,
        budget: 600,
        afterQueries: 200,
        during: () => void victim.child.kill('SIGKILL'),
      },
    );
    assert.equal(victim.child.signalCode, 'SIGKILL');
    assert.ok(r.requests.failed > 0, 'some clients lost their replica');
    assert.equal(r.overrun, 0);
    assert.ok(r.answered <= r.charged, `answered ${r.answered} > charged ${r.charged}`);
    assert.equal(r.charged, 600, 'the surviving replica served the rest of the budget');
  } finally {
    await replicas.stop();
    await redis.destroy();
  }
});

test('a detector deployment on two replica processes: an image sent to replica A, then to replica B, is refused on B and charged', {
  ...needsRedis,
  timeout: 300_000,
}, async () => {
  const redis = await startRedis();
  const replicas = await startReplicas(redis.url, 2, 100, [{ id: 'bl', model: 'fmnist-cnn', defense: ['blacklight'], maxBatch: 8 }]).catch(async (err) => {
    await redis.destroy();
    throw err;
  });
  try {
    const [a, b] = replicas.servers.map((s) => s.url);
    const send = (url: string) =>
      fetch(`${url}/v1/deployments/bl/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${RACE_KEYS.client}`, 'content-type': 'application/octet-stream' },
        body: float32ToBytes(images(1, 42).values),
      });
    assert.equal((await send(a)).status, 200);
    const onB = await send(b);
    assert.equal(onB.status, 403);
    assert.equal(((await onB.json()) as { error: string }).error, 'query_refused');
    const usage = await fetch(`${a}/v1/usage`, { headers: { authorization: `Bearer ${RACE_KEYS.client}` } });
    const bl = ((await usage.json()) as { deployments: { deployment: string; queries: number }[] }).deployments.find((d) => d.deployment === 'bl');
    assert.equal(bl?.queries, 2, 'both charged');
  } finally {
    await replicas.stop();
    await redis.destroy();
  }
});
