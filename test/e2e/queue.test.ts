// Distributed campaigns (docs/scale-out.md) against a real server process and a test Redis:
// `rs-arena worker` processes take the tasks that `rs-arena experiment … --queue` submits.
//  - 24 seeded tasks give the same records on 1 worker as on 3; a resubmitted campaign runs nothing again;
//  - a worker SIGKILLed mid-attack: its task is resumed on another worker from the query journal,
//    the server charged no more than the task's budget, and the record says what was lost;
//  - cancel, pause and resume; one campaign submitted twice at once runs each task once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parsePreset } from '../../client/src/experiments/presets.js';
import { runPreset } from '../../client/src/experiments/run.js';
import { keys as qkeys } from '../../client/src/queue/connection.js';
import { CampaignCancelled } from '../../client/src/queue/journal.js';
import { type ServerProcess, startServer } from '../../client/src/server-process.js';
import { comparable, startWorkerProcess, usageByDeployment } from '../helpers/queue.js';
import { needsRedis, startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let server: ServerProcess;
let db: Redis;
let base: string;
let env: Record<string, string>;

before(async () => {
  if (needsRedis.skip) return;
  [redis, server] = await Promise.all([startRedis(), startServer()]);
  db = new Redis(redis.url);
  base = mkdtempSync(join(tmpdir(), 'rs-arena-queue-'));
  env = { RS_ARENA_ADMIN_KEY: server.keys.admin, RS_ARENA_EVALUATOR_KEY: server.keys.evaluator, RS_ARENA_CLIENT_KEY: server.keys.client, RS_ARENA_QUEUE: redis.url };
});

after(async () => {
  if (needsRedis.skip) return;
  db.disconnect();
  await Promise.all([server.stop(), redis.destroy()]);
  rmSync(base, { recursive: true, force: true });
});

/** A distortion-only preset: plain (σ = 0) deployments answer deterministically, so seeded records are reproducible. */
const preset = (name: string, models: string[], attacks: string[], budget: number, images: number) =>
  parsePreset({ name, description: 'queue test', distortion: { settings: models.map((model) => ({ model, sigma: 0 })), ns: [1], Pas: [0.5], attacks, budget, images, assessSamples: 100 } }, name);

/** The submitting side in this process (no report), as `rs-arena experiment --queue` runs it. */
const submit = (p: ReturnType<typeof preset>, dir: string, campaign: string) =>
  runPreset(p, { dir, endpoint: server.url, keys: server.keys, concurrency: 4, imagenetImages: base, command: 'test', queue: { url: redis.url, campaign } });

function cli(args: string[]): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, out })));
}

async function status(campaign: string) {
  const r = await cli(['queue', 'status', '--campaign', campaign, '--json']);
  assert.equal(r.code, 0, r.out);
  return JSON.parse(r.out).campaigns[0] as { state: string; tasks: number; done: number; waiting: number; active: number; delayed: number; failed: number };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const attempts = async (campaign: string) => {
  const ids = await db.smembers(qkeys.jobs(campaign));
  return Promise.all(ids.map(async (id) => Number(await db.hget(qkeys.task(id), 'attempts'))));
};

test('24 seeded tasks: 1 worker and 3 workers write the same records; a resubmitted campaign runs nothing again', { ...needsRedis, timeout: 120_000 }, async () => {
  const wrong = await cli(['experiment', '--preset', 'smoke', '--queue', redis.url]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.out, /--queue needs --endpoint/);

  const p = preset('q24', ['fmnist-cnn', 'fmnist-cnn-advtrain'], ['hsja', 'surfree', 'rays'], 100, 4);
  const config = join(base, 'q24.json');
  writeFileSync(config, JSON.stringify(p));
  // One worker, the submitting command as a user runs it (it also builds the report).
  const one = await startWorkerProcess(['--concurrency', '2'], env);
  const dir1 = join(base, 'one');
  const r = await cli(['experiment', '--config', config, '--out', dir1, '--endpoint', server.url, '--queue', redis.url, '--campaign', 'one']);
  await one.stop();
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /queue: 24 distortion tasks in campaign "one"/);
  assert.match(r.out, /distortion .* 24\/24/);
  assert.match(r.out, /report: /);

  const three = await Promise.all([0, 1, 2].map(() => startWorkerProcess(['--concurrency', '2'], env)));
  const dir3 = join(base, 'three');
  try {
    await submit(p, dir3, 'three');
    for (const w of three) assert.match(w.output(), /: done in /, 'every worker ran tasks');
  } finally {
    await Promise.all(three.map((w) => w.stop()));
  }
  const a = comparable(join(dir1, 'distortion.jsonl'));
  const b = comparable(join(dir3, 'distortion.jsonl'));
  assert.equal(a.size, 24);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [key, record] of a) assert.deepEqual(b.get(key), record, key);
  for (const line of readFileSync(join(dir3, 'distortion.jsonl'), 'utf8').trim().split('\n')) assert.deepEqual(JSON.parse(line).recovery, { attempt: 1, replayed: 0, lost: 0 });

  // The same campaign again (into an empty folder): every job exists, so nothing is queued or run;
  // the records come back from the queue, and the server is not asked one more query.
  const before = await usageByDeployment(server.url, server.keys.client);
  const again = join(base, 'again');
  await submit(p, again, 'three');
  assert.deepEqual(comparable(join(again, 'distortion.jsonl')), b);
  assert.deepEqual(await usageByDeployment(server.url, server.keys.client), before);
  assert.deepEqual(await attempts('three'), Array(24).fill(1), 'each task ran once');
});

test('a worker SIGKILLed mid-attack: another worker resumes the task from its journal, within its budget, and the record counts the lost queries', { ...needsRedis, timeout: 60_000 }, async (t) => {
  const budget = 1000;
  // One task on a deployment no other test uses, so the server's count on it is this task's.
  const p = preset('kill', ['fmnist-cnn-randtrain'], ['surfree'], budget, 1);
  const workers = await Promise.all([0, 1].map(() => startWorkerProcess(['--concurrency', '1', '--lock-seconds', '2'], env)));
  const dir = join(base, 'kill');
  try {
    const submitted = submit(p, dir, 'kill');
    let victim = -1;
    await until('a worker to start the task', async () => (victim = workers.findIndex((w) => /started \(attempt 1\)/.test(w.output()))) >= 0);
    const [jobId] = await db.smembers(qkeys.jobs('kill'));
    await until('100 queries booked', async () => Number(await db.hget(qkeys.task(jobId), 'booked')) >= 100);
    // What the KEDA ScaledObject (deploy/k8s/worker-autoscaling.yaml) reads: the running task in BullMQ's active list.
    assert.equal(await db.type('bull:rs-arena:active'), 'list');
    assert.equal(await db.llen('bull:rs-arena:active'), 1);
    await workers[victim].stop('SIGKILL');
    const bookedAtKill = Number(await db.hget(qkeys.task(jobId), 'booked'));
    await submitted;
    const survivor = workers[1 - victim];
    assert.match(survivor.output(), /started \(attempt 2, \d+ queries booked before\)/);
    assert.match(survivor.output(), /attempt 2: \d+ queries replayed from the journal, \d+ lost/);

    const [record] = readFileSync(join(dir, 'distortion.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const { attempt, replayed, lost } = record.recovery;
    assert.equal(attempt, 2);
    assert.ok(replayed > 0 && replayed + lost === bookedAtKill, `replayed ${replayed} + lost ${lost} = booked at the kill ${bookedAtKill}`);
    const charged = (await usageByDeployment(server.url, server.keys.client)).get('x-fmnist-cnn-randtrain-s0-n1')!;
    assert.ok(charged <= budget, `the server charged ${charged} queries for a task of budget ${budget}`);
    // Each query the record counts was charged once (replayed ones by the first attempt); beyond
    // them only the lost ones, at most.
    assert.ok(charged >= record.queries.total && charged <= record.queries.total + lost, `charged ${charged}, record ${record.queries.total} + lost ${lost}`);
    assert.ok(record.queries.total + lost <= budget);
    assert.equal(record.budget, budget);
    t.diagnostic(`killed at ${bookedAtKill} queries booked; record: ${record.queries.total} queries (${replayed} replayed), ${lost} lost; server charged ${charged} of ${budget}`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test('queue cancel, pause and resume; one campaign submitted twice at once runs each task once', { ...needsRedis, timeout: 60_000 }, async () => {
  const p = preset('held', ['fmnist-cnn'], ['rays'], 60, 4);
  // Cancelled while queued (no worker yet): the submitter stops, the queue holds none of its tasks.
  const gone = submit(p, join(base, 'gone'), 'gone');
  await until('4 tasks queued', async () => (await db.scard(qkeys.jobs('gone'))) === 4);
  const c = await cli(['queue', 'cancel', '--campaign', 'gone']);
  assert.equal(c.code, 0, c.out);
  assert.match(c.out, /4 queued tasks removed/);
  await assert.rejects(gone, CampaignCancelled);
  assert.deepEqual({ ...(await status('gone')), tasks: undefined }, { ...(await status('gone')), state: 'cancelled', waiting: 0, active: 0, done: 0, tasks: undefined });

  // Submitted twice at once, then paused before any worker runs: nothing starts until resumed.
  const s1 = submit(p, join(base, 'held1'), 'held');
  const s2 = submit(p, join(base, 'held2'), 'held');
  // BullMQ's wait list, the backlog KEDA scales the workers on (deploy/k8s/worker-autoscaling.yaml).
  await until('4 tasks queued', async () => (await db.scard(qkeys.jobs('held'))) === 4 && (await db.llen('bull:rs-arena:wait')) === 4);
  assert.equal((await cli(['queue', 'pause', '--campaign', 'held'])).code, 0);
  const w = await startWorkerProcess(['--concurrency', '2'], env);
  try {
    await new Promise((r) => setTimeout(r, 2500));
    const paused = await status('held');
    assert.equal(paused.state, 'paused');
    assert.equal(paused.done, 0, 'no task of a paused campaign runs');
    assert.equal(paused.waiting + paused.delayed, 4);
    const missing = await cli(['queue', 'pause', '--campaign', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /no campaign "nope".*campaigns: .*held/);
    assert.equal((await cli(['queue', 'resume', '--campaign', 'held'])).code, 0);
    await Promise.all([s1, s2]);
  } finally {
    await w.stop();
  }
  const done = await status('held');
  assert.deepEqual([done.state, done.tasks, done.done, done.failed], ['running', 4, 4, 0]);
  assert.equal(comparable(join(base, 'held1', 'distortion.jsonl')).size, 4);
  assert.deepEqual(comparable(join(base, 'held2', 'distortion.jsonl')), comparable(join(base, 'held1', 'distortion.jsonl')));
  assert.deepEqual(await attempts('held'), [1, 1, 1, 1], 'each task ran once');
});
