// The adaptive attackers (client/src/adaptive.ts) against a real in-process server whose
// deployment runs the Blacklight-style detector: a refusal is a typed, charged, counted outcome;
// client counts equal the server's usage per key (refused queries included) and no attack exceeds
// its budget, per key nor in total; blinding, rejection-aware resampling and many accounts do
// what they say; no key reaches a record.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { Rng } from '@rs-arena/shared/rng';
import { Adaptive, AccountPool, BlindedOracle, REFUSED, adaptiveCounting, blindInto } from '../../../client/src/adaptive.js';
import { runAttack } from '../../../client/src/attack-run.js';
import { HttpOracle } from '../../../client/src/oracle-http.js';
import { type Oracle, QueryRefused } from '../../../client/src/oracle.js';
import { AttackRun } from '../../../client/src/record.js';
import { KEYS, TEST_DEPLOYMENTS, auth, images, testApp } from '../../helpers/app.js';

const DEPLOYMENTS = [
  ...TEST_DEPLOYMENTS,
  { id: 'bl', model: 'fmnist-cnn', defense: [{ name: 'blacklight' }], maxBatch: 16 },
  { id: 'bl-susp', model: 'fmnist-cnn', defense: [{ name: 'blacklight', policy: 'suspend', suspendAfter: 3 }], maxBatch: 16 },
];

// One server for the file, started once instead of per test (its start-up was most of what the
// tests that query it cost): every test books its queries to keys of its own, and the detector
// compares a query with the same key's earlier ones (scope "key", the default), so no test sees
// another's queries.
let app: FastifyInstance;
let url: string;
before(async () => {
  app = await testApp({ deployments: DEPLOYMENTS }, 100_000);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
after(() => app.close());

/** A fresh client key with `budget` on every deployment; its secret. */
async function newKey(app: FastifyInstance, id: string, budget: number): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { id, role: 'client', budgets: { '*': budget } } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().secret;
}

/** The server's count of `key`'s queries on `deployment` (refused ones are charged, so included). */
async function serverUsage(app: FastifyInstance, key: string, deployment: string): Promise<number> {
  const all = (await app.inject({ url: '/v1/admin/usage', headers: auth('admin') })).json();
  const k = (all.keys as { key: { id: string }; deployments: { deployment: string; queries: number }[] }[]).find((u) => u.key.id === key);
  return k?.deployments.find((d) => d.deployment === deployment)?.queries ?? 0;
}

/** The detector's detections of `key` (the server's own count of refused queries). */
async function detections(app: FastifyInstance, deployment: string, key: string): Promise<number> {
  const res = await app.inject({ url: `/v1/admin/deployments/${deployment}/detections`, headers: auth('admin') });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json().keys as { key: string; detections: number }[]).find((k) => k.key === key)?.detections ?? 0;
}

test('blindInto: stays in range, noise 0 and shift 0 is the identity, the std is the one asked (fast-check)', () => {
  const shape = [1, 6, 5] as const;
  fc.assert(
    fc.property(
      fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 30, maxLength: 30 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.integer({ min: -2, max: 2 }),
      fc.integer({ min: -2, max: 2 }),
      fc.nat(1000),
      (xs, noise, dy, dx, seed) => {
        const x = Float32Array.from(xs);
        const out = blindInto(x, new Float32Array(30), shape, [0, 1], noise, dy, dx, Rng.seeded(seed));
        for (const v of out) assert.ok(v >= 0 && v <= 1, `${v} out of range`);
        const same = blindInto(x, new Float32Array(30), shape, [0, 1], 0, 0, 0, Rng.seeded(seed));
        assert.deepEqual(same, x);
      },
    ),
  );
  // The std of the noise away from the range's ends (no clipping): within 2% of 0.01 on 200,000 values.
  const x = new Float32Array(200_000).fill(0.5);
  const out = blindInto(x, new Float32Array(x.length), [1, 400, 500], [0, 1], 0.01, 0, 0, Rng.seeded(3));
  let ss = 0;
  for (const v of out) ss += (v - 0.5) ** 2;
  assert.ok(Math.abs(Math.sqrt(ss / out.length) - 0.01) < 0.0002, `std ${Math.sqrt(ss / out.length)}`);
  // A shift by one row moves the image down, the top row repeated.
  const img = Float32Array.from({ length: 30 }, (_, i) => i);
  const down = blindInto(img, new Float32Array(30), shape, [0, 100], 0, 1, 0, Rng.seeded(1));
  assert.deepEqual(Array.from(down.subarray(0, 10)), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
});

test('BlindedOracle: the endpoint gets a fresh random point per query, the caller keeps its own', async () => {
  const seen: Float32Array[] = [];
  const inner: Oracle = {
    inputShape: [1, 2, 2],
    range: [0, 1],
    predict: async (b, n) => {
      seen.push(b.slice());
      return new Int32Array(n);
    },
  };
  const blinded = new BlindedOracle(inner, Adaptive.parse({ blind: { noise: 0.05 } }).blind!, Rng.seeded(1));
  const x = Float32Array.of(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
  await blinded.predict(x, 2);
  await blinded.predict(x, 2);
  assert.deepEqual(Array.from(x), Array(8).fill(0.5), "the caller's batch is left as asked");
  assert.notDeepEqual(seen[0].subarray(0, 4), seen[0].subarray(4, 8), 'two repeats in one batch differ');
  assert.notDeepEqual(seen[0], seen[1], 'a repeat in a later call differs');
  assert.throws(() => Adaptive.parse({ blind: { noise: 2 } }), /noise/);
  assert.throws(() => Adaptive.parse({ blind: { noise: 0.01, sigma: 1 } }), /sigma/);
});

test('a refusal is typed and charged: plain HSJA against Blacklight stops "refused", client count = server usage', async () => {
  const secret = await newKey(app, 'plain-attacker', 1000);
  const oracle = await HttpOracle.connect({ endpoint: url, key: secret, deployment: 'bl' });
  try {
    const { values, labels } = images(1);
    const r = await runAttack({ oracle, attack: 'hsja', x0: values, label: labels[0], budget: 500, seed: 1 });
    assert.equal(r.run.stopReason, 'refused');
    assert.ok((r.run.queries.refused ?? 0) >= 1);
    assert.ok(r.run.queries.firstRefusedAt! <= 50, `first refusal at ${r.run.queries.firstRefusedAt}`);
    assert.equal(r.run.detection?.refused, r.run.queries.refused);
    assert.equal(await serverUsage(app, 'plain-attacker', 'bl'), r.run.queries.total);
    assert.equal(await detections(app, 'bl', 'plain-attacker'), r.run.queries.refused);
    // Another request from the same point is refused again: a QueryRefused carrying the charge.
    const again = values.slice();
    await assert.rejects(oracle.predict(again, 1), (err: unknown) => err instanceof QueryRefused && err.code === 'query_refused');
    AttackRun.omit({ key: true }).parse(r.run);
  } finally {
    await oracle.close();
  }
});

test('rejection-aware HSJA keeps going through refusals; every query counted on both sides, budget kept', async () => {
  const secret = await newKey(app, 'oars', 5000);
  const oracle = await HttpOracle.connect({ endpoint: url, key: secret, deployment: 'bl' });
  try {
    const { values, labels } = images(1, 1);
    const adaptive = Adaptive.parse({ rejectionAware: { targetRate: 0.05 } });
    // At 300 queries, 17 refused and the blinding noise grown to 0.0098 (at 600: 31 and 0.0126):
    // the checks below need one refusal and some growth.
    const budget = 300;
    const r = await runAttack({ oracle, attack: 'hsja', x0: values, label: labels[0], budget, seed: 2, adaptive });
    assert.notEqual(r.run.stopReason, 'refused', 'it does not stop at a refusal');
    assert.ok(r.run.queries.total <= budget);
    assert.ok((r.run.queries.refused ?? 0) >= 1, 'the detector refused some queries');
    assert.equal(await serverUsage(app, 'oars', 'bl'), r.run.queries.total);
    assert.equal(await detections(app, 'bl', 'oars'), r.run.queries.refused);
    const d = r.run.detection!;
    assert.ok(d.maxNoise! > 0, 'the blinding noise grew after refusals');
    assert.equal(d.queriesIfBanned, r.run.queries.total + d.refused);
    assert.equal(d.accountsIfBanned, d.refused + 1);
    assert.deepEqual(r.run.adaptive, adaptive);
    console.log(
      `rejection-aware HSJA: success ${r.run.success}, L2 ${r.run.l2}, ${r.run.queries.total} queries, ${d.refused} refused, noise up to ${d.maxNoise}, stop ${r.run.stopReason}`,
    );
  } finally {
    await oracle.close();
  }
});

test('a noise-aware attack (rays-seq) blinded and rejection-aware: counts equal, budget kept', async () => {
  const secret = await newKey(app, 'seq', 5000);
  const oracle = await HttpOracle.connect({ endpoint: url, key: secret, deployment: 'bl' });
  try {
    const { values, labels } = images(1, 2);
    const budget = 400;
    const r = await runAttack({
      oracle,
      attack: 'rays-seq',
      x0: values,
      label: labels[0],
      budget,
      seed: 3,
      adaptive: Adaptive.parse({ blind: { noise: 0.004 }, rejectionAware: {} }),
    });
    assert.ok(r.run.queries.total <= budget);
    assert.equal(await serverUsage(app, 'seq', 'bl'), r.run.queries.total);
    assert.equal(await detections(app, 'bl', 'seq'), r.run.queries.refused ?? 0);
  } finally {
    await oracle.close();
  }
});

test('many accounts against the suspending detector: per-key and total books equal the server, keys dropped as suspended, budgets kept', async () => {
  const k = 3;
  const perKey = 150;
  const ids = Array.from({ length: k }, (_, i) => `acct-${i}`);
  const secrets = await Promise.all(ids.map((id) => newKey(app, id, 10_000)));
  const pool = await Promise.all(secrets.map((key) => HttpOracle.connect({ endpoint: url, key, deployment: 'bl-susp' })));
  try {
    const { values, labels } = images(1, 3);
    const budget = 400;
    const adaptive = Adaptive.parse({ accounts: { keys: k, rotate: 'fail-over', perKeyBudget: perKey } });
    const r = await runAttack({ oracle: pool[0], pool, attack: 'hsja', x0: values, label: labels[0], budget, seed: 4, adaptive });
    const d = r.run.detection!;
    assert.ok(r.run.queries.total <= budget);
    assert.equal(d.perAccount!.length, k);
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const used = await serverUsage(app, ids[i], 'bl-susp');
      assert.equal(d.perAccount![i].queries, used, `key ${i}: client ${d.perAccount![i].queries}, server ${used}`);
      assert.ok(used <= perKey, `key ${i} used ${used} > ${perKey}`);
      sum += used;
    }
    assert.equal(sum, r.run.queries.total);
    assert.ok(d.accountsUsed >= 2, 'a suspended key handed over to the next');
    assert.ok(d.accountsSuspended >= 1);
    // Nothing secret in the record.
    const text = JSON.stringify(r.run);
    for (const s of [...secrets, KEYS.client, KEYS.admin]) assert.ok(!text.includes(s), 'a key secret reached the record');
  } finally {
    await Promise.all(pool.map((o) => o.close()));
  }
});

test('AdaptiveCountingOracle: a point refused past its retries is answered REFUSED, each retry counted, the budget never passed', async () => {
  // A fake endpoint that refuses every second query, charging it.
  let calls = 0;
  const inner: Oracle = {
    inputShape: [1, 2, 2],
    range: [0, 1],
    predict: async (_b, n) => {
      calls += n;
      if (calls % 2 === 0) throw new QueryRefused('refused', 'query_refused', n, n);
      return new Int32Array(n).fill(3);
    },
  };
  const counting = adaptiveCounting(inner, Adaptive.parse({ rejectionAware: { retries: 0 } }), { originalLabel: 3, budget: 5, seed: 1 });
  const answers = await counting.labels(new Float32Array(16), 4);
  assert.deepEqual(Array.from(answers), [3, REFUSED, 3, REFUSED]);
  assert.equal(counting.queries, 4);
  assert.equal(counting.refused, 2);
  await assert.rejects(counting.labels(new Float32Array(8), 2), /budget/);
  assert.ok(counting.queries <= 5);
  assert.equal(counting.queries, calls, 'every call the endpoint saw is booked, none more');
});

test('AccountPool: spread rotates keys; a key refused for budget (429, not charged) hands the same call to the next', async () => {
  const { BudgetRefused } = await import('../../../client/src/oracle.js');
  const asked: number[] = [];
  const key = (i: number, broke = false): Oracle => ({
    inputShape: [1, 1, 1],
    range: [0, 1],
    predict: async (_b, n) => {
      if (broke) throw new BudgetRefused('no budget');
      asked.push(i);
      return new Int32Array(n);
    },
  });
  const pool = new AccountPool([key(0), key(1, true), key(2)], 'spread', 10);
  for (let i = 0; i < 4; i++) await pool.predict(new Float32Array(1), 1);
  assert.deepEqual(asked, [0, 2, 0, 2]);
  assert.equal(pool.use[1].dropped, 'budget');
  assert.deepEqual(
    pool.use.map((u) => u.queries),
    [2, 0, 2],
  );
});

test('rs-arena attack: blinded, rejection-aware, two accounts from --key and --keys-file; records carry detection, no key; bad flags are usage errors', async () => {
  const { mkdtempSync, writeFileSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { rsArena, rsArenaInProcess, records } = await import('../../helpers/cli.js');
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-adaptive-'));
  const a = await newKey(app, 'cli-a', 1000);
  const b = await newKey(app, 'cli-b', 1000);
  writeFileSync(join(dir, 'keys.txt'), `# the second account\n${b}\n`);
  const out = join(dir, 'r.jsonl');
  try {
    const base = ['attack', '--endpoint', url, '--deployment', 'bl', '--attack', 'hsja', '--budget', '150', '--count', '2', '--confirm', '0', '--out', out];
    const run = await rsArena([
      ...base,
      '--key',
      a,
      '--keys-file',
      join(dir, 'keys.txt'),
      '--blind-noise',
      '0.004',
      '--rejection-aware',
      '--rotate',
      'fail-over',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const rs = records(out);
    assert.equal(rs.length, 2);
    if (rs.some((r) => (r.queries.refused ?? 0) > 0)) assert.match(run.stdout, /bl runs a detector: it refused \d+ hsja queries/);
    let total = 0;
    for (const r of rs) {
      assert.ok(r.queries.total <= 150);
      assert.deepEqual(r.adaptive?.blind, { noise: 0.004, shift: 0 });
      assert.equal(r.adaptive?.accounts?.keys, 2);
      assert.ok(r.detection);
      total += r.queries.total;
    }
    assert.equal((await serverUsage(app, 'cli-a', 'bl')) + (await serverUsage(app, 'cli-b', 'bl')), total);
    for (const f of readdirSync(dir)) {
      if (f === 'keys.txt' || !f.endsWith('.jsonl')) continue;
      const text = readFileSync(join(dir, f), 'utf8');
      assert.ok(!text.includes(a) && !text.includes(b), `a key in ${f}`);
    }
    // The plain attacker with the same key: stopped by the detector, and the summary says so.
    const plainOut = join(dir, 'plain.jsonl');
    const plain = await rsArena([...base.slice(0, -1), plainOut, '--key', a, '--count', '1']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(records(plainOut)[0].stopReason, 'refused');
    assert.match(plain.stdout, /note: bl runs a detector: it refused \d+ hsja queries \(charged, counted\) on 1 of 1 images/);
    for (const [flags, message] of [
      [['--key', a, '--blind-noise', '2'], /--blind-noise: .*1/],
      [['--key', a, '--target-rate', '0.1'], /--target-rate and --retries go with --rejection-aware/],
      [['--key', a, '--rotate', 'spread'], /need more than one key/],
      [['--key', a, '--key', b, '--rotate', 'roundrobin'], /--rotate:/],
      [['--key', a, '--key', a], /the same key is given twice/],
    ] as const) {
      // What the command says, run in this process (the attacks above are real processes).
      const bad = await rsArenaInProcess([...base, ...flags]);
      assert.equal(bad.code, 2, `${flags.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, message);
      assert.ok(!bad.stderr.includes(a), 'a key in an error message');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a batch split into requests meets a refusal half-way: the answered part and the refused part are charged, the rest never sent; both sides agree', async () => {
  const { CountingOracle } = await import('../../../client/src/oracle.js');
  const secret = await newKey(app, 'split', 1000);
  const oracle = await HttpOracle.connect({ endpoint: url, key: secret, deployment: 'bl' });
  try {
    // 40 distinct images in requests of 16 (the deployment's maxBatch); image 20 repeats image 0,
    // so the second request (16–31) is refused whole and the third is never sent.
    const { values, labels } = images(40, 10);
    values.set(values.subarray(0, 784), 20 * 784);
    const counting = new CountingOracle(oracle, labels[0], 1000);
    await assert.rejects(counting.labels(values, 40), (err: unknown) => err instanceof QueryRefused && err.charged === 32 && err.refused === 16);
    assert.equal(counting.queries, 32);
    assert.equal(counting.refused, 16);
    assert.equal(counting.counts().firstRefusedAt, 32);
    assert.equal(await serverUsage(app, 'split', 'bl'), 32);
  } finally {
    await oracle.close();
  }
});
