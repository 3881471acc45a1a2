// A queue worker (`rs-arena worker --queue redis://…`): takes the tasks of every campaign from the
// queue and runs them, `concurrency` at a time; start any number, on any number of machines. Each
// job names its task kind (kinds.ts); its task runs with a query journal (journal.ts), so a task
// whose worker died is resumed elsewhere without spending its budget twice. BullMQ's lock says who
// runs a job: a worker that stops renewing it (killed, or stalled for `lockMs`) loses the job to
// the next stalled-job check of any other worker.
// The worker holds its own keys (client and evaluator; no admin key: it creates no deployment,
// the submitter did); the jobs carry none.
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { ServerAdmin } from '../admin.js';
import { Deployments } from '../experiments/assessed-attack.js';
import type { ExperimentContext } from '../experiments/context.js';
import type { TaskEnv } from '../experiments/tasks.js';
import { JobData, QUEUE_NAME, keys } from './campaign.js';
import { bullConnection, connect } from './connection.js';
import { CampaignCancelled, TaskJournal } from './journal.js';
import { TASK_KINDS } from './kinds.js';
import { formatZodError } from '@rs-arena/shared/zod-error';

/** How soon a task of a paused campaign is looked at again. */
const PAUSED_RECHECK_MS = 2000;

export interface WorkerOptions {
  url: string;
  concurrency: number;
  /** evaluator: '' when this worker has none (it then runs only kinds that do not need one: audits). */
  keys: { client: string; evaluator: string };
  /** Replaces each job's endpoint (the submitter's URL may not be this machine's way to the server, e.g. in a cluster). */
  endpoint?: string;
  imagenetImages: string;
  /** Request headers for audits' targets (`Name: value`: the worker's own credentials for endpoints with other auth than a key). */
  headers?: string[];
  /** A worker that does not renew its lock for this long is taken for dead (ms); its task is rerun after at most twice this. */
  lockMs: number;
  log(line: string): void;
}

export interface RunningWorker {
  worker: Worker;
  /** Stops taking tasks; waits for those in flight unless `force` (then they are recovered by other workers). */
  close(force?: boolean): Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const redis = connect(o.url);
  const envs = new Map<string, TaskEnv>();
  const envFor = (endpoint: string): TaskEnv => {
    let env = envs.get(endpoint);
    if (!env) {
      const evaluator = new ServerAdmin(endpoint, o.keys.evaluator);
      const ctx: ExperimentContext = {
        endpoint,
        // No admin key here: `admin` is never called (Deployments below creates nothing).
        keys: { admin: '', evaluator: o.keys.evaluator, client: o.keys.client },
        admin: evaluator,
        evaluator,
        dir: process.cwd(),
        concurrency: o.concurrency,
        imagenetImages: o.imagenetImages,
        headers: o.headers,
        log: o.log,
      };
      env = { ctx, deployments: new Deployments(ctx, false) };
      envs.set(endpoint, env);
    }
    return env;
  };

  const processor = async (job: Job, token?: string): Promise<string> => {
    const parsed = JobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id} is not an rs-arena task: ${formatZodError(parsed.error, { schema: JobData, max: 1 })}`);
    const d = parsed.data;
    const kind = TASK_KINDS.get(d.kind);
    if (!kind)
      throw new UnrecoverableError(`job ${job.id}: unknown task kind "${d.kind}" (this worker runs ${[...TASK_KINDS.keys()].join(', ')}): update the worker`);
    // A plain error, not an unrecoverable one: its retries may go to a worker that has the key.
    if (kind.needsEvaluator && !o.keys.evaluator) throw new Error(`this worker has no evaluator key (--evaluator-key): ${d.kind} tasks need one`);
    const state = await redis.hget(keys.campaign(d.campaign), 'state');
    if (state === 'cancelled') throw new UnrecoverableError(`campaign "${d.campaign}" was cancelled`);
    if (state === 'paused') {
      await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
      throw new DelayedError();
    }
    // A second delivery of a task that finished (its record is written before BullMQ hears of it).
    if (await redis.hexists(keys.records(d.campaign), job.id!)) return 'done before';
    const payload = kind.payload.safeParse(d.payload);
    if (!payload.success)
      throw new UnrecoverableError(`job ${job.id}: bad ${d.kind} payload: ${formatZodError(payload.error, { schema: kind.payload, max: 1 })}`);
    const journal = await TaskJournal.open(redis, d.campaign, job.id!, kind.budget(payload.data));
    o.log(
      `${d.campaign} ${d.experiment} ${job.id}: started (attempt ${journal.attempt}${journal.bookedBefore ? `, ${journal.bookedBefore} queries booked before` : ''})`,
    );
    const t0 = Date.now();
    let record: unknown;
    try {
      record = await kind.run(envFor(o.endpoint ?? d.endpoint), payload.data, d.key, journal);
    } catch (err) {
      if (err instanceof CampaignCancelled) throw new UnrecoverableError(err.message);
      throw err;
    }
    const res = await redis
      .multi()
      .hset(keys.records(d.campaign), job.id!, JSON.stringify(record))
      .rpush(keys.done(d.campaign), job.id!)
      .del(keys.log(job.id!))
      .exec();
    for (const [err] of res ?? []) if (err) throw err;
    const r = journal.recovery();
    o.log(
      `${d.campaign} ${d.experiment} ${job.id}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s${r.attempt > 1 ? ` (attempt ${r.attempt}: ${r.replayed} queries replayed from the journal, ${r.lost} lost)` : ''}`,
    );
    return 'done';
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: bullConnection(o.url),
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: o.lockMs,
    // A task whose workers keep dying is failed after this many losses, not retried forever.
    maxStalledCount: 3,
  });
  worker.on('failed', (job, err) => {
    if (job && err.name !== 'DelayedError') o.log(`${job.id}: failed (attempt ${job.attemptsMade}): ${err.message}`);
  });
  worker.on('error', (err) => o.log(`worker: ${err.message}`));
  await worker.waitUntilReady();
  return {
    worker,
    async close(force = false) {
      await worker.close(force);
      for (const env of envs.values()) {
        for (const kind of TASK_KINDS.values()) await kind.close?.(env);
        await env.deployments.close();
        await env.ctx.evaluator.close();
      }
      redis.disconnect();
    },
  };
}
