// Budgets are checked and charged atomically: concurrent requests cannot overrun a budget, a
// refused batch never reaches the model, and a batch larger than what remains is refused whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLedger } from '../../../server/src/budget.js';
import { auth, binary, images, testApp } from '../../helpers/app.js';

test('ledger: a batch that does not fit is refused whole and books nothing', async () => {
  const ledger = new MemoryLedger();
  assert.deepEqual(await ledger.charge('k', 'd', 7, 10), { ok: true, usage: { used: 7, limit: 10, remaining: 3 } });
  assert.deepEqual(await ledger.charge('k', 'd', 4, 10), { ok: false, usage: { used: 7, limit: 10, remaining: 3 } });
  assert.deepEqual(await ledger.charge('k', 'd', 3, 10), { ok: true, usage: { used: 10, limit: 10, remaining: 0 } });
  assert.equal((await ledger.account('k', 'd')).rejected, 4);
  assert.deepEqual((await ledger.charge('k', 'other', 1_000_000, null)).usage, { used: 1_000_000, limit: null, remaining: null });
  await ledger.refund('k', 'd', 2);
  assert.equal((await ledger.account('k', 'd')).queries, 8);
  // Ids that are Object.prototype names are ordinary accounts.
  for (const id of ['constructor', '__proto__', 'toString']) {
    assert.equal((await ledger.charge(id, id, 3, 2)).ok, false);
    assert.deepEqual(await ledger.account(id, id), { queries: 0, forwardPasses: 0, rejected: 3 });
  }
});

test('60 concurrent requests against a budget of 25 queries: exactly 25 answered, none beyond', async () => {
  const app = await testApp({}, 25);
  try {
    const body = binary(images(1).values);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        app.inject({
          method: 'POST',
          url: `/v1/deployments/${i % 2 ? 'rs' : 'plain'}/predict`,
          headers: { ...auth('client'), ...body.headers },
          payload: body.payload,
        }),
      ),
    );
    // budgets are per deployment: 25 on each
    const ok = results.filter((r) => r.statusCode === 200).length;
    const refused = results.filter((r) => r.statusCode === 429);
    assert.equal(ok, 50);
    assert.equal(refused.length, 10);
    assert.match(refused[0].json().message, /query budget exhausted: this batch of 1 query exceeds the 0 remaining of 25/);
    const usage = (await app.inject({ url: '/v1/usage', headers: auth('client') })).json();
    for (const d of usage.deployments.filter((x: { deployment: string }) => ['rs', 'plain'].includes(x.deployment))) {
      assert.equal(d.queries, 25);
      assert.equal(d.rejected, 5);
      // refused queries never reached the model
      assert.equal(d.forwardPasses, d.deployment === 'rs' ? 250 : 25);
    }
  } finally {
    await app.close();
  }
});

test('concurrent batches of mixed sizes never overrun by one query', async () => {
  const app = await testApp({}, 40);
  try {
    const sizes = [7, 5, 9, 3, 11, 6, 4, 8, 2, 10];
    const results = await Promise.all(
      sizes.map((k) => {
        const body = binary(images(k).values);
        return app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', headers: { ...auth('client'), ...body.headers }, payload: body.payload });
      }),
    );
    const served = results.reduce((acc, r, i) => acc + (r.statusCode === 200 ? sizes[i] : 0), 0);
    assert.ok(served <= 40, `served ${served} > 40`);
    const usage = (await app.inject({ url: '/v1/usage', headers: auth('client') })).json();
    assert.equal(usage.deployments.find((d: { deployment: string }) => d.deployment === 'plain').queries, served);
    for (const r of results) assert.ok([200, 429].includes(r.statusCode));
  } finally {
    await app.close();
  }
});
