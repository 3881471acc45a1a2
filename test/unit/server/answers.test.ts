// The in-memory answer store for idempotent retries is bounded by count and by bytes (least
// recently used out first), forgets answers after their TTL, and holds a reservation meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryAnswers } from '../../../server/src/state/answers.js';
import { loadConfig } from '../../../server/src/config.js';

const answer = (body: string) => ({ fingerprint: 'f', status: 200, body });

test('memory answers: reserve, keep, replay; bounded by count and bytes, least recently used out first', async () => {
  const store = new MemoryAnswers({ maxEntries: 3, maxBytes: 1_000_000, ttlSeconds: 60, pendingSeconds: 60 });
  assert.deepEqual(await store.begin('a', 'f'), { state: 'new' });
  assert.deepEqual(await store.begin('a', 'f'), { state: 'pending', fingerprint: 'f' });
  await store.finish('a', answer('A'));
  assert.deepEqual(await store.begin('a', 'f'), { state: 'done', answer: answer('A') });
  for (const id of ['b', 'c']) {
    await store.begin(id, 'f');
    await store.finish(id, answer(id));
  }
  await store.begin('a', 'f'); // a read: "a" becomes the most recently used
  await store.begin('d', 'f');
  await store.finish('d', answer('d'));
  assert.equal(store.size.entries, 3);
  assert.equal((await store.begin('b', 'f')).state, 'new', 'the least recently used answer was dropped');
  assert.equal((await store.begin('a', 'f')).state, 'done');

  const small = new MemoryAnswers({ maxEntries: 100, maxBytes: 2_000, ttlSeconds: 60, pendingSeconds: 60 });
  for (let i = 0; i < 20; i++) {
    await small.begin(`id-${i}`, 'f');
    await small.finish(`id-${i}`, answer('x'.repeat(300)));
  }
  assert.ok(small.size.bytes <= 2_000, `${small.size.bytes} bytes kept`);
  assert.equal((await small.begin('id-19', 'f')).state, 'done');
  assert.equal((await small.begin('id-0', 'f')).state, 'new');

  const abandoned = new MemoryAnswers({ maxEntries: 10, maxBytes: 10_000, ttlSeconds: 60, pendingSeconds: 60 });
  await abandoned.begin('r', 'f');
  await abandoned.abandon('r');
  assert.deepEqual(await abandoned.begin('r', 'f'), { state: 'new' }, 'a refused request may run again');
});

test('memory answers expire after their TTL', async () => {
  const store = new MemoryAnswers({ maxEntries: 10, maxBytes: 10_000, ttlSeconds: 1, pendingSeconds: 1 });
  await store.begin('a', 'f');
  await store.finish('a', answer('A'));
  await new Promise((r) => setTimeout(r, 1_100));
  assert.deepEqual(await store.begin('a', 'f'), { state: 'new' });
  assert.equal(store.size.entries, 0);
});

test('REDIS_URL from the environment; a URL that is not redis:// is refused at start', () => {
  assert.equal(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redisUrl, 'redis://cache:6379');
  assert.equal(loadConfig({}).redisUrl, undefined);
  assert.throws(() => loadConfig({ REDIS_URL: 'http://cache:6379' }), /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  assert.deepEqual(loadConfig({}).idempotency, { ttlSeconds: 86_400, maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, pendingSeconds: 600 });
});
