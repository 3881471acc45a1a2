// The query journal of a queued task (client/src/queue/journal.ts) against a test Redis and an
// in-process oracle that counts what it is asked: booked before each call under the task's budget
// over all attempts, answers replayed to a later attempt without asking again, a divergent path
// going live, a server's budget refusal un-booked, a cancelled campaign stopping the task.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { keys } from '../../../client/src/queue/campaign.js';
import { CampaignCancelled, TaskJournal } from '../../../client/src/queue/journal.js';
import { BudgetExhausted, type Oracle } from '../../../client/src/oracle.js';
import { needsRedis, startRedis, type TestRedis } from '../../helpers/redis.js';

let redis: TestRedis;
let db: Redis;
before(async () => {
  if (needsRedis.skip) return;
  redis = await startRedis();
  db = new Redis(redis.url);
});
after(async () => {
  if (needsRedis.skip) return;
  db.disconnect();
  await redis.destroy();
});

/** A 2-pixel "model": label 1 where the first pixel exceeds 0.5; counts the inputs it is asked; refuses past `limit`. */
function model(limit = Infinity): Oracle & { asked: number } {
  const o = {
    inputShape: [1, 1, 2] as const,
    range: [0, 1] as const,
    asked: 0,
    async predict(batch: Float32Array, count: number) {
      if (o.asked + count > limit) {
        const charged = Math.max(0, limit - o.asked);
        o.asked += charged;
        throw new BudgetExhausted('429', charged);
      }
      o.asked += count;
      return Int32Array.from({ length: count }, (_, i) => (batch[2 * i] > 0.5 ? 1 : 0));
    },
  };
  return o;
}
const x = (...firsts: number[]) => Float32Array.from(firsts.flatMap((v) => [v, 0]));

test('a second attempt is answered from the log, goes live where its path leaves it, and never books past the budget', needsRedis, async () => {
  const job = 'c1.distortion.a';
  const first = await TaskJournal.open(db, 'c1', job, 10);
  const m1 = model();
  const o1 = first.wrap(m1);
  assert.deepEqual([...(await o1.predict(x(0.9, 0.1), 2))], [1, 0]);
  assert.deepEqual([...(await o1.predict(x(0.7), 1))], [1]);
  // A call booked whose answer never came back (the worker died with it in flight).
  await db.hincrby(keys.task(job), 'booked', 4);
  assert.equal(Number(await db.hget(keys.task(job), 'booked')), 7);

  const second = await TaskJournal.open(db, 'c1', job, 10);
  assert.equal(second.attempt, 2);
  assert.equal(second.lostBefore, 4);
  assert.equal(second.attemptBudget, 6);
  const m2 = model();
  const o2 = second.wrap(m2);
  assert.deepEqual([...(await o2.predict(x(0.9, 0.1), 2))], [1, 0], 'replayed');
  assert.equal(m2.asked, 0, 'not asked again');
  // Other inputs than the log's second call: live from here, the rest of the log dropped.
  assert.deepEqual([...(await o2.predict(x(0.2), 1))], [0]);
  assert.equal(m2.asked, 1);
  assert.deepEqual(second.recovery(), { attempt: 2, replayed: 2, lost: 5 }, 'the in-flight 4 and the abandoned 1');
  assert.deepEqual(Object.keys(await db.hgetall(keys.log(job))).sort(), ['0', '1']);
  // 8 booked; 3 more would pass the budget of 10, over both attempts.
  await assert.rejects(o2.predict(x(0.1, 0.2, 0.3), 3), BudgetExhausted);
  assert.equal(m2.asked, 1, 'refused before asking');
  assert.deepEqual([...(await o2.predict(x(0.1, 0.2), 2))], [0, 0]);
  assert.equal(Number(await db.hget(keys.task(job), 'booked')), 10);
});

test('two attempts racing (a false stall) share one budget; ℓ queries per input are booked as ℓ', needsRedis, async () => {
  const job = 'c2.distortion.b';
  const [a, b] = await Promise.all([TaskJournal.open(db, 'c2', job, 30), TaskJournal.open(db, 'c2', job, 30)]);
  const m = model();
  const oa = a.wrap(m, 3);
  const ob = b.wrap(m, 3);
  // 8 calls of 2 inputs at ℓ = 3: 6 queries each, 48 asked of a budget of 30: 5 calls fit.
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? oa : ob).predict(x(0.1 * i, 0.05 * i), 2)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
  assert.equal(m.asked, 10, 'the inner oracle saw the inputs of 5 calls');
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof BudgetExhausted));
  assert.equal(Number(await db.hget(keys.task(job), 'booked')), 30, 'never past the budget, over both');
});

test("a server's budget refusal un-books the refused part; a cancelled campaign stops the task at its next query", needsRedis, async () => {
  const job = 'c3.distortion.c';
  const j = await TaskJournal.open(db, 'c3', job, 100);
  const o = j.wrap(model(3));
  await assert.rejects(o.predict(x(0.1, 0.2, 0.3, 0.4, 0.5), 5), BudgetExhausted);
  assert.equal(Number(await db.hget(keys.task(job), 'booked')), 3, 'the 3 the server answered before refusing');
  await db.hset(keys.campaign('c3'), 'state', 'cancelled');
  const k = await TaskJournal.open(db, 'c3', 'c3.distortion.d', 100);
  await assert.rejects(k.wrap(model()).predict(x(0.1), 1), CampaignCancelled);
});

test(
  "the journal keeps a grid endpoint's onGrid and gridStep (an attack starts from the point the endpoint sees), without asking a query",
  needsRedis,
  async () => {
    const j = await TaskJournal.open(db, 'c5', 'c5.audit.a', 10);
    const inner = Object.assign(model(), { gridStep: 1 / 255, onGrid: async (v: Float32Array) => v.map((a) => Math.round(a * 255) / 255) });
    const o = j.wrap(inner);
    assert.equal(o.gridStep, 1 / 255);
    assert.deepEqual(await o.onGrid!(Float32Array.from([0.3001, 0])), Float32Array.from([Math.round(0.3001 * 255) / 255, 0]));
    assert.equal(inner.asked, 0);
    assert.equal(await db.hget(keys.task('c5.audit.a'), 'booked'), null, 'nothing booked');
    assert.equal(j.wrap(model()).onGrid, undefined, 'a continuous endpoint has none');
  },
);
