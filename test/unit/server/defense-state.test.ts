// A defense's state, in memory and in Redis alike: fingerprints matched and expired by count and by
// age (the memory bound), counters, reset of one scope or all, drop, and a secret drawn once and
// shared (in Redis: by every replica, and kept across a restart of the app).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDefenseState, type DefenseState } from '../../../server/src/state/defense-state.js';
import { RedisStore } from '../../../server/src/state/redis.js';
import { needsRedis, startRedis } from '../../helpers/redis.js';

const fp = (tag: string) => Array.from({ length: 50 }, (_, i) => `${tag}${i}`);

async function contract(state: DefenseState, other: DefenseState) {
  const limits = { maxEntries: 3, maxAgeSeconds: 0 };
  assert.equal(await state.matchAndAdd('k', fp('a'), limits), 0);
  assert.equal(await state.matchAndAdd('k', [...fp('a').slice(0, 30), ...fp('z').slice(0, 20)], limits), 30, 'shares 30 with the first');
  assert.equal(await state.matchAndAdd('other-key', fp('a'), limits), 0, 'scopes are apart');
  for (const t of ['b', 'c', 'd']) await state.matchAndAdd('k', fp(t), limits);
  // Only the 3 newest remain: 'a' and the mixed one have left.
  assert.equal(await state.matchAndAdd('k', fp('a'), limits), 0, 'expired by count');
  assert.equal(await state.matchAndAdd('k', fp('d'), limits), 50);
  // By age.
  const aging = { maxEntries: 100, maxAgeSeconds: 1 };
  await state.matchAndAdd('old', fp('e'), aging);
  assert.equal(await state.matchAndAdd('old', fp('e'), aging), 50);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(await state.matchAndAdd('old', fp('e'), aging), 0, 'expired by age');
  // Counters.
  assert.equal(await state.increment('detections', 'k', 2), 2);
  assert.equal(await state.increment('detections', 'j'), 1);
  assert.equal(await state.counter('detections', 'k'), 2);
  assert.deepEqual([...(await state.counters('detections'))].sort(), [
    ['j', 1],
    ['k', 2],
  ]);
  await state.reset('k');
  assert.deepEqual([...(await state.counters('detections'))], [['j', 1]]);
  assert.equal(await state.matchAndAdd('k', fp('d'), limits), 0, 'the scope was reset');
  assert.equal(await state.matchAndAdd('other-key', fp('a'), limits), 50, 'other scopes stay');
  // Secrets: drawn once, the same for another handle on the same store, forgotten by drop.
  const s = await state.secret('salt');
  assert.equal(s.length, 32);
  assert.deepEqual(await state.secret('salt'), s);
  assert.deepEqual(await other.secret('salt'), s);
  await state.drop();
  assert.notDeepEqual(await state.secret('salt'), s);
  assert.equal(await state.matchAndAdd('other-key', fp('a'), limits), 0);
  assert.equal((await state.counters('detections')).size, 0);
}

test('memory: fingerprints bounded by count and age, counters, reset, drop, secret', async () => {
  const state = new MemoryDefenseState();
  await contract(state, state);
});

test('Redis: the same, shared by two stores (replicas), apart per deployment', needsRedis, async () => {
  const redis = await startRedis();
  const open = () => RedisStore.connect({ url: redis.url, answers: { ttlSeconds: 60, pendingSeconds: 60 } });
  const [a, b] = [await open(), await open()];
  try {
    await contract(a.defenseState('d1'), b.defenseState('d1'));
    assert.notDeepEqual(await a.defenseState('d2').secret('salt'), await a.defenseState('d1').secret('salt'), 'each deployment its own secret');
  } finally {
    await a.close();
    await b.close();
    await redis.destroy();
  }
});
