// The CLI as an attacker runs it: its own process, real HTTP to a listening server. The server's
// usage counts must equal the client's, a rerun must resume instead of repeating, and a server-side
// budget must end the attacks cleanly with both sides still agreeing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { AttackRecord } from '../../client/src/record.js';
import { KEYS, testApp } from '../helpers/app.js';

let app: FastifyInstance;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'rs-arena-cli-'));

before(async () => {
  app = await testApp({}, null);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `rs-arena attack` against the test server. */
function cli(args: string[], key = KEYS.client): Promise<{ code: number; stdout: string; stderr: string }> {
  return rsArena(['attack', '--endpoint', base, '--key', key, ...args]);
}

function rsArena(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => AttackRecord.parse(JSON.parse(l)));

async function serverQueries(key: string, deployment: string): Promise<number> {
  const res = await fetch(`${base}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
  const usage = UsageResponse.parse(await res.json());
  return usage.deployments.find((d) => d.deployment === deployment)?.queries ?? 0;
}

test('the CLI attacks over HTTP; the server counts exactly the queries the client reports; reruns resume', { timeout: 120_000 }, async () => {
  const out = join(dir, 'plain.jsonl');
  const first = await cli(['--deployment', 'plain', '--attack', 'hsja,rays,surfree', '--budget', '300', '--count', '3', '--concurrency', '2', '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /deployment\s+attack\s+images\s+accuracy\s+success\s+mean L2\s+median L2/);
  let rs = records(out);
  assert.equal(rs.length, 9);
  for (const r of rs) {
    assert.ok(r.success, `${r.attack} ${r.image}: ${r.stopReason}`);
    assert.ok(r.queries.total <= 300);
    // The saved adversarial is the reported one.
    const f32 = readFileSync(join(dir, r.adversarialFile!));
    const adv = new Float32Array(f32.buffer, f32.byteOffset, f32.length / 4);
    assert.equal(adv.length, 784);
    assert.ok(existsSync(join(dir, r.previewFile!)));
  }
  const spent = rs.reduce((s, r) => s + r.queries.total, 0);
  assert.equal(await serverQueries(KEYS.client, 'plain'), spent);

  // Resume: the first three images are in the file already; only two new ones cost queries.
  const again = await cli(['--deployment', 'plain', '--attack', 'hsja', '--budget', '300', '--count', '5', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  rs = records(out);
  assert.equal(rs.length, 11);
  assert.equal(await serverQueries(KEYS.client, 'plain'), rs.reduce((s, r) => s + r.queries.total, 0));
});

test('a server-side budget ends the campaign cleanly (429), and both counts still agree', { timeout: 120_000 }, async () => {
  const create = await app.inject({
    method: 'POST',
    url: '/v1/admin/keys',
    headers: { authorization: `Bearer ${KEYS.admin}` },
    payload: { id: 'limited', role: 'client', budgets: { rs: 250 } },
  });
  assert.equal(create.statusCode, 201, create.body);
  const key = create.json().secret as string;
  const out = join(dir, 'rs.jsonl');
  const run = await cli(['--deployment', 'rs', '--attack', 'hsja', '--budget', '200', '--count', '3', '--concurrency', '1', '--out', out], key);
  assert.equal(run.code, 0, run.stderr);
  const rs = records(out);
  assert.equal(rs.length, 3);
  const spent = rs.reduce((s, r) => s + r.queries.total, 0);
  assert.equal(await serverQueries(key, 'rs'), spent);
  assert.ok(spent <= 250);
  // Images stopped by the server's 429 before their own budget of 200: refused batches were not
  // booked, so the client's count still equals the server's.
  assert.ok(rs.filter((r) => r.stopReason === 'budget' && r.queries.total < 200).length >= 1);
});

test('bad CLI input is a clear usage error, not a stack trace', { timeout: 60_000 }, async () => {
  const unknown = await cli(['--deployment', 'plain', '--attack', 'fgsm']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown attack fgsm; choose from hsja, surfree, rays/);
  const budget = await cli(['--deployment', 'plain', '--budget', 'lots']);
  assert.equal(budget.code, 2);
  assert.match(budget.stderr, /--budget must be a non-negative integer, got "lots"/);
  const option = await cli(['--deployment', 'plain', '--option', 'gama=3']);
  assert.match(option.stderr, /--option gama: not an option of hsja/);
  const missing = await cli(['--deployment', 'nope', '--out', join(dir, 'x.jsonl')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404.*nope/);
  const badKey = await cli(['--deployment', 'plain', '--out', join(dir, 'x.jsonl')], 'wrong-key-0123456789');
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /HTTP 401/);
  // Nothing listens on port 1: the experiment's first admin call fails, and the command says so in one line.
  const down = await rsArena(['experiment', '--preset', 'smoke', '--out', join(dir, 'down'), '--endpoint', 'http://127.0.0.1:1',
    '--admin-key', 'a', '--evaluator-key', 'b', '--client-key', 'c']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^rs-arena: connect ECONNREFUSED 127\.0\.0\.1:1/m);
  for (const r of [unknown, budget, option, missing, badKey, down]) assert.doesNotMatch(r.stderr, /\n\s+at /);
});
