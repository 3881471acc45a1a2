// The submitting side of a distributed campaign (`rs-arena experiment … --queue redis://…`). Each
// task not yet in the results file becomes one BullMQ job whose id is the campaign and the task's
// resume key (jobIdOf), so a resubmitted campaign adds nothing already queued, running or done.
// Then it follows the campaign's completion list, appends each record to the same results file a
// local run writes (validated with the experiment's record schema), and shows the same progress
// line; a task that failed for good on the workers is reported at the end, and a resubmission
// retries it.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Ticker, formatSeconds } from '../progress.js';
import { type TaskBatch, type TaskRunner, isDone, totalWork } from '../experiments/tasks.js';
import { type JobData, QUEUE_NAME, jobIdOf, keys, redact } from './campaign.js';
import { bullConnection, connect } from './connection.js';
import { CampaignCancelled } from './journal.js';

/** Retries of a task whose run threw (a network failure, say); a worker that dies is a stall, not a failure, and is recovered apart from these. */
const JOB_OPTIONS = { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false } as const;

export interface QueueSubmitOptions {
  url: string;
  campaign: string;
  log(line: string): void;
  /** How often the completion list is read (ms). */
  pollMs?: number;
}

export class QueueTaskRunner implements TaskRunner {
  private readonly queue: Queue;
  private readonly redis: Redis;

  constructor(private readonly o: QueueSubmitOptions) {
    this.queue = new Queue(QUEUE_NAME, { connection: bullConnection(o.url) });
    this.redis = connect(o.url);
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }

  async run<T, P, R>(b: TaskBatch<T, P, R>): Promise<void> {
    const { campaign } = this.o;
    const ticker = new Ticker(b.experiment, b.tasks.length, { work: totalWork(b) });
    const pending = new Map<string, string>(); // job id → resume key
    const work = new Map<string, number>(); // resume key → the task's work (for the time left)
    const jobs = [];
    for (const t of b.tasks) {
      const key = b.key(t);
      work.set(key, b.cost?.(t) ?? 1);
      if (isDone(b, key)) {
        ticker.tick(`${key} (resumed)`, true, work.get(key));
        continue;
      }
      const jobId = jobIdOf(campaign, b.experiment, b.version ? `${key}|${b.version(t)}` : key);
      if (pending.has(jobId)) continue;
      pending.set(jobId, key);
      const data: JobData = {
        kind: b.kind.name,
        campaign,
        experiment: b.experiment,
        key,
        endpoint: withoutCredentials(b.env.ctx.endpoint),
        payload: b.payload(t),
      };
      jobs.push({ name: b.kind.name, data, opts: { jobId, ...JOB_OPTIONS } });
    }
    if (pending.size === 0) return;
    const state = await this.register(b.env.ctx.endpoint);
    for (let i = 0; i < jobs.length; i += 500) {
      const chunk = jobs.slice(i, i + 500);
      await this.redis.sadd(keys.jobs(campaign), ...chunk.map((j) => j.opts.jobId));
      await this.queue.addBulk(chunk);
    }
    // A resubmission retries what failed for good before (an existing id is not added again).
    for (const job of await this.queue.getJobs(['failed'])) if (job?.id && pending.has(job.id)) await job.retry();
    this.o.log(
      `queue: ${pending.size} ${b.experiment} tasks in campaign "${campaign}" on ${redact(this.o.url)}${state === 'paused' ? ' (paused: rs-arena queue resume)' : ''}; workers: rs-arena worker --queue URL`,
    );

    let cursor = 0;
    let lastCheck = 0;
    let lastRecord = Date.now();
    let lastNote = Date.now();
    const failures: string[] = [];
    while (pending.size > 0) {
      const ids = await this.redis.lrange(keys.done(campaign), cursor, -1);
      cursor += ids.length;
      const mine = [...new Set(ids.filter((id) => pending.has(id)))];
      if (mine.length) {
        const values = await this.redis.hmget(keys.records(campaign), ...mine);
        for (const [i, id] of mine.entries()) {
          const text = values[i];
          if (!text) continue;
          const record = b.record.parse(JSON.parse(text));
          const key = pending.get(id);
          pending.delete(id);
          // A worker running other code than this command made it: not resumable here, and not kept.
          if (b.done && !b.done(record)) {
            failures.push(`${key}: the worker that ran it has other attack code than this command (update the workers)`);
            ticker.tick('made by other code: not kept', false, work.get(key!));
            continue;
          }
          b.file.add(b.collect ? await b.collect(record) : record);
          ticker.tick(b.describe(record), false, work.get(key!));
        }
        lastRecord = Date.now();
      }
      if (Date.now() - lastCheck > 2000) {
        lastCheck = Date.now();
        if ((await this.redis.hget(keys.campaign(campaign), 'state')) === 'cancelled')
          throw new CampaignCancelled(`campaign "${campaign}" was cancelled (rs-arena queue cancel); ${pending.size} ${b.experiment} tasks not done`);
        for (const job of await this.queue.getJobs(['failed'])) {
          if (!job?.id || !pending.has(job.id)) continue;
          failures.push(`${pending.get(job.id)}: ${job.failedReason} (after ${job.attemptsMade} attempts)`);
          pending.delete(job.id);
          ticker.tick(`failed: ${job.failedReason}`);
        }
        if (Date.now() - Math.max(lastRecord, lastNote) > 30_000) {
          lastNote = Date.now();
          const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed');
          const workers = await this.queue.getWorkersCount();
          this.o.log(
            `queue: nothing finished for ${formatSeconds((Date.now() - lastRecord) / 1000)}; ${counts.waiting} waiting, ${counts.active} active, ${counts.delayed} delayed, ${workers} workers connected`,
          );
        }
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, this.o.pollMs ?? 250));
    }
    if (failures.length) throw new Error(`${failures.length} ${b.experiment} tasks failed on the workers; the first: ${failures[0]}. Resubmit to retry them.`);
  }

  /** Records the campaign (a resubmission revives a cancelled one; a paused one stays paused); its state. */
  private async register(endpoint: string): Promise<string> {
    const { campaign } = this.o;
    const state = await this.redis.hget(keys.campaign(campaign), 'state');
    await this.redis
      .multi()
      .sadd(keys.campaigns, campaign)
      .hset(keys.campaign(campaign), { state: state === 'paused' ? 'paused' : 'running', submittedAt: new Date().toISOString(), endpoint: redact(endpoint) })
      .exec();
    return state === 'paused' ? 'paused' : 'running';
  }
}

/** The endpoint as jobs carry it: without user:password (a worker attacking such an endpoint is given it with --endpoint). */
function withoutCredentials(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    if (!u.username && !u.password) return endpoint;
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return endpoint;
  }
}
