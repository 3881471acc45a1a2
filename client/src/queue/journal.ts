// A task's query journal in Redis: at-least-once delivery without spending a budget twice.
// BullMQ hands a job to another worker when its worker dies or stalls; the task then starts again
// with the same seed. The journal turns that restart into a resumption:
//  - each live call is booked before it is sent, under one Lua check (booked + price ≤ the task's
//    budget over every attempt, so even two attempts racing after a false stall cannot overspend);
//  - each answer is logged under the call's index with a digest of the inputs asked;
//  - a later attempt asks the same inputs in the same order (same seed, same answers so far) and
//    is answered from the log, not the endpoint, until a call is missing or asks other inputs; from
//    there on it is live. What earlier attempts booked without a logged answer that was replayed
//    (calls in flight when the worker died) is lost: the attempt's budget is the task's minus that,
//    and the record says so (AttackRun.recovery).
// Why the client's own journal rather than the server's usage per key: tasks share one API key, and
// per-task keys need the admin role, which a red team attacking someone else's endpoint (Triton,
// KServe) does not have. Booked before each call, the journal is an upper bound on what any server
// charged, so the guarantee holds for every endpoint; on an rs-arena server the tests check it
// against /v1/usage.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BudgetExhausted, type Oracle } from '../oracle.js';
import { keys } from './campaign.js';

/** The campaign was cancelled (`rs-arena queue cancel`): the task stops at its next query. */
export class CampaignCancelled extends Error {
  override name = 'CampaignCancelled';
}

// KEYS: task hash, campaign hash. ARGV: price, budget. → booked after, −1 over budget, −2 cancelled.
const BOOK = `
if redis.call('HGET', KEYS[2], 'state') == 'cancelled' then return -2 end
local booked = tonumber(redis.call('HGET', KEYS[1], 'booked') or '0')
local price = tonumber(ARGV[1])
if booked + price > tonumber(ARGV[2]) then return -1 end
return redis.call('HINCRBY', KEYS[1], 'booked', price)`;

interface Entry {
  digest: string;
  /** Queries the call cost (inputs × cost per input). */
  price: number;
  labels: string;
}

const digestOf = (batch: Float32Array) =>
  createHash('sha1')
    .update(new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength))
    .digest('base64');

export class TaskJournal {
  private calls = 0;
  private replaying = true;
  private replayedQueries = 0;
  private dropped: Promise<unknown> | null = null;

  private constructor(
    private readonly redis: Redis,
    private readonly campaign: string,
    private readonly jobId: string,
    /** The task's budget, over every attempt. */
    readonly budget: number,
    readonly attempt: number,
    /** Queries booked by earlier attempts. */
    readonly bookedBefore: number,
    private readonly log: Map<number, Entry>,
  ) {}

  /** Opens the journal of a job for a new attempt. */
  static async open(redis: Redis, campaign: string, jobId: string, budget: number): Promise<TaskJournal> {
    const res = await redis.multi().hincrby(keys.task(jobId), 'attempts', 1).hget(keys.task(jobId), 'booked').hgetall(keys.log(jobId)).exec();
    if (!res) throw new Error('Redis transaction aborted');
    for (const [err] of res) if (err) throw err;
    const attempt = Number(res[0][1]);
    const booked = Number(res[1][1] ?? 0);
    const log = new Map<number, Entry>();
    for (const [index, value] of Object.entries((res[2][1] ?? {}) as Record<string, string>)) {
      const [digest, price, labels] = value.split('|');
      log.set(Number(index), { digest, price: Number(price), labels });
    }
    return new TaskJournal(redis, campaign, jobId, budget, attempt, booked, log);
  }

  /** Queries earlier attempts booked that no logged answer accounts for. */
  get lostBefore(): number {
    let logged = 0;
    for (const e of this.log.values()) logged += e.price;
    return Math.max(0, this.bookedBefore - logged);
  }

  /** What this attempt may spend: the task's budget minus what earlier attempts lost. */
  get attemptBudget(): number {
    return Math.max(0, this.budget - this.lostBefore);
  }

  /** For the record: this attempt, the queries replayed from the log, the queries earlier attempts lost. */
  recovery(): { attempt: number; replayed: number; lost: number } {
    return { attempt: this.attempt, replayed: this.replayedQueries, lost: Math.max(0, this.bookedBefore - this.replayedQueries) };
  }

  /** `inner` behind the journal; `cost` queries per input (ℓ for the repeated-query oracle), as the CountingOracle counts them. */
  wrap(inner: Oracle, cost = 1): Oracle {
    return {
      inputShape: inner.inputShape,
      range: inner.range,
      predict: (batch, count) => this.predict(inner, cost, batch, count),
      // A grid endpoint (PNG, JPEG) moves x0 onto its grid without a query: kept, or the attack would start elsewhere.
      ...(inner.onGrid ? { onGrid: (x: Float32Array) => inner.onGrid!(x) } : {}),
      ...(inner.gridStep !== undefined ? { gridStep: inner.gridStep } : {}),
    };
  }

  private async predict(inner: Oracle, cost: number, batch: Float32Array, count: number): Promise<Int32Array> {
    const index = this.calls++;
    const size = inner.inputShape.reduce((a, b) => a * b, 1);
    const inputs = batch.subarray(0, count * size);
    const digest = `${count}:${digestOf(inputs)}`;
    const price = count * cost;
    if (this.replaying) {
      const e = this.log.get(index);
      if (e && e.digest === digest && e.price === price) {
        this.replayedQueries += price;
        return Int32Array.from(e.labels.split(','), Number);
      }
      // The path leaves the log here: later entries belong to an abandoned path (their queries are lost).
      this.replaying = false;
      const stale = [...this.log.keys()].filter((i) => i >= index).map(String);
      if (stale.length) this.dropped = this.redis.hdel(keys.log(this.jobId), ...stale);
    }
    await this.dropped;
    const booked = (await this.redis.eval(BOOK, 2, keys.task(this.jobId), keys.campaign(this.campaign), price, this.budget)) as number;
    if (booked === -2) throw new CampaignCancelled(`campaign ${this.campaign} was cancelled`);
    if (booked === -1) throw new BudgetExhausted(`the task's budget of ${this.budget} is exhausted over its attempts (journal)`);
    let labels: Int32Array;
    try {
      labels = await inner.predict(batch, count);
    } catch (err) {
      // The part the server refused was not charged: un-book it, as the CountingOracle does.
      if (err instanceof BudgetExhausted) await this.redis.hincrby(keys.task(this.jobId), 'booked', -(price - Math.min(price, err.charged)));
      throw err;
    }
    await this.redis.hset(keys.log(this.jobId), String(index), `${digest}|${price}|${labels.join(',')}`);
    return labels;
  }
}
