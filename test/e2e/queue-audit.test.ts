// `rs-arena audit … --queue` (docs/scale-out.md, docs/red-team.md) against a real server process and
// a test Redis: the audit's battery (image × attacker) runs on 2 `rs-arena worker` processes, with
// their own keys, and gives the same per-image records, adversarials and report card as the local
// audit (seeded, undefended fmnist-cnn); a resubmitted audit queues and charges nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ServerAdmin } from '../../client/src/admin.js';
import type { AuditSummary } from '../../client/src/audit/audit.js';
import { keys as qkeys } from '../../client/src/queue/campaign.js';
import { type ServerProcess, startServer } from '../../client/src/server-process.js';
import { rsArenaInProcess } from '../helpers/cli.js';
import { startWorkerProcess, usageByDeployment } from '../helpers/queue.js';
import { needsRedis, startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let server: ServerProcess;
let db: Redis;
let base: string;
let env: Record<string, string>;
const DEPLOYMENT = 'audit-plain';

before(async () => {
  if (needsRedis.skip) return;
  base = mkdtempSync(join(tmpdir(), 'rs-arena-queue-audit-'));
  // No deployment of the default config (three models to load): the audit's own is added below.
  const config = join(base, 'server.json');
  writeFileSync(config, JSON.stringify({ deployments: [] }));
  [redis, server] = await Promise.all([startRedis(), startServer({ config })]);
  db = new Redis(redis.url);
  // Workers get the client key from their environment (an audit needs no evaluator key), the audit command its --key; neither an admin key.
  env = { RS_ARENA_CLIENT_KEY: server.keys.client };
  const admin = new ServerAdmin(server.url, server.keys.admin);
  await admin.ensureDeployment({ id: DEPLOYMENT, model: 'fmnist-cnn', sigma: 0, n: 1, seed: 7919 });
  await admin.close();
});

after(async () => {
  if (needsRedis.skip) return;
  db.disconnect();
  await Promise.all([server.stop(), redis.destroy()]);
  rmSync(base, { recursive: true, force: true });
});

function audit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', 'audit', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** attacks.jsonl by key, without what differs from run to run (timings, CPU) or says how a queue ran it. */
function records(dir: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(join(dir, 'attacks.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const { wallMs: _w, recovery: _r, clientCpuMs: _c, finishedAt: _f, ...rest } = JSON.parse(line) as Record<string, unknown>;
    out.set(rest.key as string, rest);
  }
  return out;
}

const used = async () => (await usageByDeployment(server.url, server.keys.client)).get(DEPLOYMENT) ?? 0;

test("an audit on the queue with 2 workers: the local audit's records and report card; resubmitted, it queues nothing", {
  ...needsRedis,
  timeout: 120_000,
}, async (t) => {
  const common = [
    '--endpoint',
    server.url,
    '--key',
    server.keys.client,
    '--deployment',
    DEPLOYMENT,
    '--epsilon',
    '1,10',
    '--budget',
    '120',
    '--count',
    '4',
    '--seed',
    '3',
    '--json',
  ];
  // The usage errors: what the command says, run in this process; the audits below are real processes.
  const wrong = await rsArenaInProcess(['audit', ...common, '--campaign', 'x']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--campaign goes with --queue/);
  const notRedis = await rsArenaInProcess(['audit', ...common, '--queue', 'http://127.0.0.1:6379', '--out', join(base, 'never')]);
  assert.equal(notRedis.code, 2);
  assert.match(notRedis.stderr, /--queue: http: is not supported; give redis:\/\/host:6379/);
  assert.ok(!existsSync(join(base, 'never')), 'nothing written');

  const localDir = join(base, 'local');
  const t0 = Date.now();
  const local = await audit([...common, '--out', localDir]);
  const localMs = Date.now() - t0;
  assert.equal(local.code, 0, local.stderr);
  const ls = JSON.parse(local.stdout) as AuditSummary;
  const afterLocal = await used();
  assert.equal(afterLocal, ls.queries);

  const workers = await Promise.all([0, 1].map(() => startWorkerProcess(['--queue', redis.url, '--concurrency', '2'], env)));
  const queuedDir = join(base, 'queued');
  let queued;
  try {
    const t1 = Date.now();
    queued = await audit([...common, '--out', queuedDir, '--queue', redis.url, '--campaign', 'qa']);
    t.diagnostic(`local audit ${(localMs / 1000).toFixed(1)} s, queued on 2 workers ${((Date.now() - t1) / 1000).toFixed(1)} s (each a fresh CLI process)`);
    assert.equal(queued.code, 0, `${queued.stderr}\n${workers.map((w) => w.output()).join('\n')}`);
    for (const w of workers) assert.match(w.output(), /qa audit .*: done in /, 'both workers ran tasks');
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  const tasks = ls.clean.correct * ls.battery.length;
  assert.match(queued.stderr, new RegExp(`queue: ${tasks} audit tasks in campaign "qa"`));
  const qs = JSON.parse(queued.stdout) as AuditSummary;
  assert.equal((await used()) - afterLocal, qs.queries, "the server's count equals the queued audit's");

  // The same records, adversarials and verdicts as the local audit.
  const a = records(localDir);
  const b = records(queuedDir);
  assert.equal(a.size, tasks);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [key, r] of a) {
    assert.deepEqual(b.get(key), r, key);
    if (r.adversarialFile)
      assert.deepEqual(
        readFileSync(join(queuedDir, r.adversarialFile as string)),
        readFileSync(join(localDir, r.adversarialFile as string)),
        `${key}: the adversarial`,
      );
  }
  for (const line of readFileSync(join(queuedDir, 'attacks.jsonl'), 'utf8').trim().split('\n')) {
    const r = JSON.parse(line);
    assert.deepEqual(r.recovery, { attempt: 1, replayed: 0, lost: 0 });
    assert.equal(r.adversarial, undefined, 'the adversarial sent back is saved, not kept in the record');
  }
  assert.deepEqual(qs.images, ls.images);
  assert.deepEqual(qs.epsilons, ls.epsilons);
  assert.equal(qs.queries, ls.queries);
  t.diagnostic(`${tasks} tasks, ${qs.queries} queries; per ε: ${qs.epsilons.map((e) => `${e.epsilon}: ${e.broken}/${e.attacked}`).join(', ')}`);
  assert.ok(existsSync(join(queuedDir, 'report.html')));
  const jobs = await db.smembers(qkeys.jobs('qa'));
  assert.equal(jobs.length, tasks);
  // A job carries the target's flags and the image, never a key.
  for (const id of jobs) {
    const data = JSON.parse((await db.hget(`bull:rs-arena:${id}`, 'data'))!) as { kind: string; payload: { target: Record<string, string> } };
    assert.equal(data.kind, 'audit-attack');
    assert.equal(data.payload.target.protocol, 'v1');
    assert.doesNotMatch(JSON.stringify(data), new RegExp(`${server.keys.client}|${server.keys.evaluator}|${server.keys.admin}`));
  }

  // Resubmitted into the same folder: every record is there, nothing is submitted, nothing asked.
  const usedBefore = await used();
  const same = await audit([...common, '--out', queuedDir, '--queue', redis.url, '--campaign', 'qa']);
  assert.equal(same.code, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /queue: \d+ audit tasks/);
  assert.equal(await used(), usedBefore);

  // Resubmitted into an empty folder, no worker running: the jobs exist, so nothing is queued or run;
  // the records come back from the queue, and the server is asked only the clean answers and the probe.
  const againDir = join(base, 'again');
  const again = await audit([...common, '--out', againDir, '--queue', redis.url, '--campaign', 'qa']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await db.scard(qkeys.jobs('qa')), tasks);
  for (const id of await db.smembers(qkeys.jobs('qa'))) assert.equal(await db.hget(qkeys.task(id), 'attempts'), '1', `${id} ran once`);
  const probe = JSON.parse(readFileSync(join(againDir, 'probe.json'), 'utf8')) as { queries: number };
  assert.equal((await used()) - usedBefore, probe.queries);
  assert.deepEqual(records(againDir), b);
  assert.deepEqual((JSON.parse(again.stdout) as AuditSummary).images, ls.images);
});
