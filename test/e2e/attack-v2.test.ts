// `rs-arena attack --protocol v2` as a red team runs it against any Open Inference Protocol model:
// its own process, HTTP through a gateway that mounts the model server under a path prefix and
// takes its own auth header, rate limits waited out, a budget refusal its own stop reason, and the
// server's count equal to the client's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { records, rsArena, rsArenaInProcess, spent } from '../helpers/cli.js';
import { KEYS, auth, testApp } from '../helpers/app.js';
import { gateway, tritonLike } from '../helpers/oip-servers.js';

let app: FastifyInstance;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'rs-arena-v2-'));
// HSJA and SurFree succeed within their first 21 queries, RayS its first 2, and at 60 each still
// runs all of its phases (HSJA's gradient probes in one batched request among them): the 150 and
// 120 these runs had made more than twice the traffic for the same checks.
const BUDGET = 60;

before(async () => {
  app = await testApp();
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serverQueries(key: keyof typeof KEYS | string, deployment: string): Promise<number> {
  const headers = key in KEYS ? auth(key as keyof typeof KEYS) : { authorization: `Bearer ${key}` };
  const res = await app.inject({ method: 'GET', url: '/v1/usage', headers });
  return UsageResponse.parse(res.json()).deployments.find((d) => d.deployment === deployment)?.queries ?? 0;
}

test('HSJA, SurFree and RayS over /v2 through a path-prefixed gateway with its own auth header; rate limits waited out; counts equal', {
  timeout: 180_000,
}, async () => {
  const gw = await gateway({
    upstream: base,
    prefix: '/team/models',
    apiKey: 'gw-secret',
    bearer: KEYS.client,
    rateLimit: { requests: [3, 4], retryAfter: '1' },
  });
  try {
    const out = join(dir, 'gateway.jsonl');
    const before = await serverQueries('client', 'plain');
    const run = await rsArena([
      'attack',
      '--protocol',
      'v2',
      '--endpoint',
      gw.url,
      '--header',
      'X-Api-Key: gw-secret',
      '--deployment',
      'plain',
      '--attack',
      'hsja,surfree,rays',
      '--budget',
      String(BUDGET),
      '--count',
      '2',
      '--concurrency',
      '2',
      '--out',
      out,
      '--no-save',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Open Inference Protocol model plain \(rs-arena; answers: label; binary tensors\)/);
    const rs = records(out);
    assert.deepEqual(rs.map((r) => r.attack).sort(), ['hsja', 'hsja', 'rays', 'rays', 'surfree', 'surfree']);
    for (const r of rs) {
      assert.ok(r.queries.total <= BUDGET, `${r.attack} ${r.image}: ${r.queries.total}`);
      assert.ok(r.success, `${r.attack} ${r.image}: ${r.stopReason}`);
      assert.equal(r.labelSource, 'label');
    }
    assert.equal(gw.rateLimited(), 2, 'two requests met a 429 with Retry-After and were sent again');
    assert.equal((await serverQueries('client', 'plain')) - before, spent(rs));

    // Detected from the endpoint: /v2 answers, and without a key v1 is not an option.
    const auto = await rsArena([
      'attack',
      '--endpoint',
      gw.url,
      '--header',
      'X-Api-Key: gw-secret',
      '--deployment',
      'plain',
      '--attack',
      'rays',
      '--budget',
      '40',
      '--count',
      '1',
      '--out',
      join(dir, 'auto.jsonl'),
      '--no-save',
    ]);
    assert.equal(auto.code, 0, auto.stderr);
    assert.match(auto.stderr, /Open Inference Protocol model plain/);
  } finally {
    await gw.close();
  }
});

test('a budget refusal (429 without Retry-After) ends the attacks with their own stop reason; both counts agree', { timeout: 120_000 }, async () => {
  const create = await app.inject({
    method: 'POST',
    url: '/v1/admin/keys',
    headers: auth('admin'),
    // The first image's 50 queries and 5 confirmations fit the key's 60; the second image meets the refusal.
    payload: { id: 'v2-limited', role: 'client', budgets: { rs: 60 } },
  });
  const key = create.json().secret as string;
  const out = join(dir, 'limited.jsonl');
  const run = await rsArena([
    'attack',
    '--protocol',
    'v2',
    '--endpoint',
    base,
    '--key',
    key,
    '--deployment',
    'rs',
    '--attack',
    'rays',
    '--budget',
    '50',
    '--count',
    '3',
    '--concurrency',
    '1',
    '--out',
    out,
    '--no-save',
  ]);
  assert.equal(run.code, 3, run.stderr);
  const rs = records(out);
  assert.ok(rs.length < 3, 'no image started after the refusal');
  assert.equal(rs.at(-1)!.stopReason, 'budget-refused');
  assert.equal(await serverQueries(key, 'rs'), spent(rs));
  assert.ok(spent(rs) <= 60);
});

test('a Triton-like model that answers class scores: reduced to top-1 on the client, and the record says so', { timeout: 120_000 }, async () => {
  const triton = await tritonLike();
  const gw = await gateway({ upstream: triton.url, prefix: '/triton' });
  try {
    const out = join(dir, 'triton.jsonl');
    const run = await rsArena([
      'attack',
      '--protocol',
      'v2',
      '--endpoint',
      gw.url,
      '--deployment',
      'fmnist',
      '--attack',
      'hsja',
      '--budget',
      String(BUDGET),
      '--count',
      '2',
      '--out',
      out,
      '--no-save',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const rs = records(out);
    for (const r of rs) assert.equal(r.labelSource, 'argmax of 10 scores (top-1 taken on the client)');
    assert.ok(rs.every((r) => r.success));
    assert.equal(triton.inferences(), spent(rs));
  } finally {
    await gw.close();
    await triton.close();
  }
});

test('bad v2 flags are usage errors', { timeout: 60_000 }, async () => {
  // What the command says, run in this process (the attacks above are real processes).
  const header = await rsArenaInProcess(['attack', '--protocol', 'v2', '--endpoint', base, '--deployment', 'plain', '--header', 'no colon']);
  assert.equal(header.code, 2);
  assert.match(header.stderr, /--header expects 'Name: value', got "no colon"/);
  const proto = await rsArenaInProcess(['attack', '--protocol', 'v3', '--endpoint', base, '--deployment', 'plain']);
  assert.equal(proto.code, 2);
  assert.match(proto.stderr, /--protocol must be one of v1, v2, tfserving, torchserve, json or auto/);
  const url = await rsArenaInProcess(['attack', '--protocol', 'v2', '--endpoint', 'ftp://x', '--deployment', 'plain']);
  assert.equal(url.code, 2);
  assert.match(url.stderr, /only http and https/);
  const v1NoKey = await rsArenaInProcess(['attack', '--protocol', 'v1', '--endpoint', base, '--deployment', 'plain']);
  assert.equal(v1NoKey.code, 2);
  assert.match(v1NoKey.stderr, /--key .* is required for an rs-arena \/v1 endpoint/);
  const missing = await rsArenaInProcess([
    'attack',
    '--protocol',
    'v2',
    '--endpoint',
    base,
    '--key',
    KEYS.client,
    '--deployment',
    'nope',
    '--out',
    join(dir, 'x.jsonl'),
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404.*unknown model "nope"/);
});
