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
import { keys as qkeys } from '../../client/src/queue/campaign.js';
import { QueueControl } from '../../client/src/queue/control.js';
import { CampaignCancelled } from '../../client/src/queue/journal.js';
import { type ServerProcess, startServer } from '../../client/src/server-process.js';
import { rsArenaInProcess } from '../helpers/cli.js';
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
  env = {
    RS_ARENA_ADMIN_KEY: server.keys.admin,
    RS_ARENA_EVALUATOR_KEY: server.keys.evaluator,
    RS_ARENA_CLIENT_KEY: server.keys.client,
    RS_ARENA_QUEUE: redis.url,
  };
});

after(async () => {
  if (needsRedis.skip) return;
  db.disconnect();
  await Promise.all([server.stop(), redis.destroy()]);
  rmSync(base, { recursive: true, force: true });
});

/** A distortion-only preset: plain (σ = 0) deployments answer deterministically, so seeded records are reproducible. */
const preset = (name: string, models: string[], attacks: string[], budget: number, images: number) =>
  parsePreset(
    {
      name,
      description: 'queue test',
      distortion: { settings: models.map((model) => ({ model, sigma: 0 })), ns: [1], Pas: [0.5], attacks, budget, images, assessSamples: 100 },
    },
    name,
  );

/** The submitting side in this process (no report), as `rs-arena experiment --queue` runs it. */
const submit = (p: ReturnType<typeof preset>, dir: string, campaign: string) =>
  runPreset(p, { dir, endpoint: server.url, keys: server.keys, concurrency: 4, imagenetImages: base, command: 'test', queue: { url: redis.url, campaign } });

/** The rs-arena command in its own process, as a user runs it. */
function cli(args: string[]): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, out })));
}

/** The same in this process (main(), its output captured), where the test is about what the command does, not its process. */
async function cliHere(args: string[]): Promise<{ code: number; out: string }> {
  const saved = Object.entries(env).map(([k]) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    const r = await rsArenaInProcess(args);
    return { code: r.code, out: r.stdout + r.stderr };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A campaign's status, read in this process (the CLI's own output is checked once, in the first test). */
async function status(campaign: string) {
  const control = new QueueControl(redis.url);
  try {
    return (await control.status(campaign))[0];
  } finally {
    await control.close();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
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

test('24 seeded tasks: 1 worker and 3 workers write the same records; a resubmitted campaign runs nothing again', {
  ...needsRedis,
  timeout: 300_000,
}, async () => {
  const wrong = await cliHere(['experiment', '--preset', 'smoke', '--queue', redis.url]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.out, /--queue needs --endpoint/);

  // A budget of 50 per task: enough for every attack to query past its start, and the records of
  // 24 seeded tasks are what is compared; a larger budget only made the server and workers busier.
  const p = preset('q24', ['fmnist-cnn', 'fmnist-cnn-advtrain'], ['hsja', 'surfree', 'rays'], 50, 4);
  const config = join(base, 'q24.json');
  writeFileSync(config, JSON.stringify(p));
  // One worker, the submitting command as a user runs it (it also builds the report). The command
  // starts while the worker does (its tasks wait in the queue until one is ready).
  const oneStarting = startWorkerProcess(['--concurrency', '2'], env);
  const dir1 = join(base, 'one');
  const running = cli(['experiment', '--config', config, '--out', dir1, '--endpoint', server.url, '--queue', redis.url, '--campaign', 'one']);
  const one = await oneStarting;
  const r = await running;
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /queue: 24 distortion tasks in campaign "one"/);
  assert.match(r.out, /distortion .* 24\/24/);
  assert.match(r.out, /report: /);

  // Three workers: the one above, which has nothing left to do, and two more.
  const three = [one, ...(await Promise.all([0, 1].map(() => startWorkerProcess(['--concurrency', '2'], env))))];
  const ranBefore = one.output().length;
  const dir3 = join(base, 'three');
  try {
    await submit(p, dir3, 'three');
    for (const w of three) assert.match(w.output().slice(w === one ? ranBefore : 0), /: done in /, 'every worker ran tasks');
  } finally {
    await Promise.all(three.map((w) => w.stop()));
  }
  const a = comparable(join(dir1, 'distortion.jsonl'));
  const b = comparable(join(dir3, 'distortion.jsonl'));
  assert.equal(a.size, 24);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [key, record] of a) assert.deepEqual(b.get(key), record, key);
  for (const line of readFileSync(join(dir3, 'distortion.jsonl'), 'utf8').trim().split('\n'))
    assert.deepEqual(JSON.parse(line).recovery, { attempt: 1, replayed: 0, lost: 0 });

  // The same campaign again (into an empty folder): every job exists, so nothing is queued or run;
  // the records come back from the queue, and the server is not asked one more query.
  const before = await usageByDeployment(server.url, server.keys.client);
  const again = join(base, 'again');
  await submit(p, again, 'three');
  assert.deepEqual(comparable(join(again, 'distortion.jsonl')), b);
  assert.deepEqual(await usageByDeployment(server.url, server.keys.client), before);
  assert.deepEqual(await attempts('three'), Array(24).fill(1), 'each task ran once');
  const st = await cli(['queue', 'status']);
  assert.equal(st.code, 0, st.out);
  assert.match(st.out, /^campaign\s+state\s+tasks\s+done\s+waiting\s+active\s+delayed\s+failed\s+queries\s+retried$/m);
  assert.match(st.out, /^one\s+running\s+24\s+24\s+0\s+0\s+0\s+0\s+1200\s+0$/m, 'every task spent its budget of 50, once');
  assert.match(st.out, /^0 workers connected/m);
});

test('a worker SIGKILLed mid-attack: another worker resumes the task from its journal, within its budget, and the record counts the lost queries', {
  ...needsRedis,
  timeout: 180_000,
}, async (t) => {
  const budget = 1000;
  // One task on a deployment no other test uses, so the server's count on it is this task's.
  // HSJA: its gradient estimates go out as batches of 100 inputs, one call each.
  const p = preset('kill', ['fmnist-cnn-randtrain'], ['hsja'], budget, 1);
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
    // SIGKILL while a batch is in flight (booked, its answer not yet logged), as a real failure would usually land.
    const journal = async () => {
      const res = (await db.multi().hget(qkeys.task(jobId), 'booked').hvals(qkeys.log(jobId)).exec())!;
      return { booked: Number(res[0][1]), logged: (res[1][1] as string[]).reduce((s, e) => s + Number(e.split('|')[1]), 0) };
    };
    await until('a batch in flight', async () => {
      const j = await journal();
      return j.booked - j.logged >= 50;
    });
    await workers[victim].stop('SIGKILL');
    const atKill = await journal();
    await submitted;
    const survivor = workers[1 - victim];
    assert.match(survivor.output(), /started \(attempt 2, \d+ queries booked before\)/);
    assert.match(survivor.output(), /attempt 2: \d+ queries replayed from the journal, \d+ lost/);

    const [record] = readFileSync(join(dir, 'distortion.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const { attempt, replayed, lost } = record.recovery;
    assert.equal(attempt, 2);
    // Every answer the killed worker logged was replayed (the endpoint is deterministic, the seed the same); what it booked beyond them is lost.
    assert.deepEqual({ replayed, lost }, { replayed: atKill.logged, lost: atKill.booked - atKill.logged });
    assert.ok(replayed > 0, 'the answers the first attempt got were not asked again');
    const charged = (await usageByDeployment(server.url, server.keys.client)).get('x-fmnist-cnn-randtrain-s0-n1')!;
    assert.ok(charged <= budget, `the server charged ${charged} queries for a task of budget ${budget}`);
    // Each query the record counts was charged once (replayed ones by the first attempt); beyond
    // them only the lost ones, at most.
    assert.ok(charged >= record.queries.total && charged <= record.queries.total + lost, `charged ${charged}, record ${record.queries.total} + lost ${lost}`);
    assert.ok(record.queries.total + lost <= budget);
    assert.equal(record.budget, budget);
    const st = await status('kill');
    assert.deepEqual(
      [st.done, st.retried, st.queries],
      [1, 1, record.queries.total - replayed + atKill.booked],
      'status: one task, retried once, every booked query counted',
    );
    t.diagnostic(
      `killed at ${atKill.booked} queries booked, ${atKill.logged} answered; record: ${record.queries.total} queries (${replayed} replayed), ${lost} lost; server charged ${charged} of ${budget}`,
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test('queue cancel, pause and resume; one campaign submitted twice at once runs each task once', { ...needsRedis, timeout: 180_000 }, async () => {
  const p = preset('held', ['fmnist-cnn'], ['rays'], 60, 4);
  // Cancelled while queued (no worker yet): the submitter stops, the queue holds none of its tasks.
  const gone = submit(p, join(base, 'gone'), 'gone');
  // Its rejection is awaited from the start: it may come before the cancel command has ended.
  const goneRejected = assert.rejects(gone, CampaignCancelled);
  await until('4 tasks queued', async () => (await db.scard(qkeys.jobs('gone'))) === 4);
  const c = await cliHere(['queue', 'cancel', '--campaign', 'gone']);
  assert.equal(c.code, 0, c.out);
  assert.match(c.out, /4 queued tasks removed/);
  await goneRejected;
  assert.deepEqual(
    { ...(await status('gone')), tasks: undefined },
    { ...(await status('gone')), state: 'cancelled', waiting: 0, active: 0, done: 0, tasks: undefined },
  );
  // Removed: nothing of it is left in Redis.
  const rm = await cliHere(['queue', 'remove', '--campaign', 'gone']);
  assert.equal(rm.code, 0, rm.out);
  assert.match(rm.out, /campaign "gone" removed from the queue \(4 tasks\)/);
  assert.deepEqual([...(await db.keys('*gone*'))], []);
  await assert.rejects(status('gone'), /no campaign "gone"/);

  // Submitted twice at once, then paused before any worker runs: nothing starts until resumed.
  const s1 = submit(p, join(base, 'held1'), 'held');
  const s2 = submit(p, join(base, 'held2'), 'held');
  // BullMQ's wait list, the backlog KEDA scales the workers on (deploy/k8s/worker-autoscaling.yaml).
  await until('4 tasks queued', async () => (await db.scard(qkeys.jobs('held'))) === 4 && (await db.llen('bull:rs-arena:wait')) === 4);
  assert.equal((await cliHere(['queue', 'pause', '--campaign', 'held'])).code, 0);
  const w = await startWorkerProcess(['--concurrency', '2'], env);
  try {
    // Until the worker has taken each of the 4 tasks and put it back (delayed) unrun.
    await until('the worker to put off every task', async () => (await status('held')).delayed === 4);
    const paused = await status('held');
    assert.equal(paused.state, 'paused');
    assert.equal(paused.done, 0, 'no task of a paused campaign runs');
    assert.equal(paused.waiting + paused.delayed, 4);
    const control = new QueueControl(redis.url);
    await assert.rejects(control.pause('nope'), /no campaign "nope" on redis:\/\/127\.0\.0\.1:\d+\/?; campaigns: .*held/);
    await control.close();
    assert.equal((await cliHere(['queue', 'resume', '--campaign', 'held'])).code, 0);
    await Promise.all([s1, s2]);
  } finally {
    await w.stop();
  }
  const done = await status('held');
  assert.deepEqual([done.state, done.tasks, done.done, done.failed], ['running', 4, 4, 0]);
  assert.equal(comparable(join(base, 'held1', 'distortion.jsonl')).size, 4);
  assert.deepEqual(comparable(join(base, 'held2', 'distortion.jsonl')), comparable(join(base, 'held1', 'distortion.jsonl')));
  assert.deepEqual(await attempts('held'), [1, 1, 1, 1], 'each task ran once');

  // A record made by a worker running other attack code (its code version differs) is not taken.
  const [someJob] = await db.smembers(qkeys.jobs('held'));
  const made = JSON.parse((await db.hget(qkeys.records('held'), someJob))!);
  await db.hset(qkeys.records('held'), someJob, JSON.stringify({ ...made, codeVersion: 'older-code' }));
  await assert.rejects(submit(p, join(base, 'held3'), 'held'), /1 distortion tasks failed .*other attack code than this command/);
  assert.equal(comparable(join(base, 'held3', 'distortion.jsonl')).size, 3);
});

test('a task that keeps failing on the workers is reported after its retries; a resubmission retries it', { ...needsRedis, timeout: 120_000 }, async () => {
  const p = preset('flaky', ['fmnist-cnn'], ['rays'], 30, 1);
  // A worker with a wrong client key: every attempt gets a 401.
  const wrong = await startWorkerProcess(['--concurrency', '1'], { ...env, RS_ARENA_CLIENT_KEY: 'not-the-client-key-0123456789' });
  try {
    await assert.rejects(
      submit(p, join(base, 'flaky1'), 'flaky'),
      /1 distortion tasks failed on the workers; the first: .*401.* \(after 3 attempts\)\. Resubmit to retry them/,
    );
  } finally {
    await wrong.stop();
  }
  assert.equal((await status('flaky')).failed, 1);
  const right = await startWorkerProcess(['--concurrency', '1'], env);
  try {
    await submit(p, join(base, 'flaky2'), 'flaky');
  } finally {
    await right.stop();
  }
  assert.equal(comparable(join(base, 'flaky2', 'distortion.jsonl')).size, 1);
  const after = await status('flaky');
  assert.deepEqual([after.done, after.failed], [1, 0]);
});
