// Inspecting and steering campaigns on a queue (`rs-arena queue status|pause|resume|cancel|remove`).
//  - pause: no task of the campaign starts (a worker that takes one puts it back, delayed, and looks
//    again later); tasks in flight finish. Other campaigns keep running.
//  - resume: the campaign's tasks start again at once.
//  - cancel: its queued tasks are removed, and tasks in flight stop at their next query (the journal
//    checks the campaign's state with each booking). A resubmission revives the campaign.
//  - remove: a campaign with no task in flight is deleted from Redis: its jobs, records, journals
//    and state (its results files keep the records).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type CampaignState, QUEUE_NAME, campaignOf, keys, redact } from './campaign.js';
import { bullConnection, connect } from './connection.js';

export interface CampaignStatus {
  campaign: string;
  state: CampaignState;
  submittedAt: string | null;
  endpoint: string | null;
  /** Tasks submitted, and records written. */
  tasks: number;
  done: number;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Queries booked by the campaign's tasks (every attempt), per the journals. */
  queries: number;
  /** Tasks that needed more than one attempt. */
  retried: number;
}

export class QueueControl {
  private readonly queue: Queue;
  private readonly redis: Redis;

  constructor(readonly url: string) {
    this.queue = new Queue(QUEUE_NAME, { connection: bullConnection(url) });
    this.redis = connect(url);
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }

  async campaigns(): Promise<string[]> {
    return (await this.redis.smembers(keys.campaigns)).sort();
  }

  /** The campaign, or an error naming the ones there are. */
  private async check(campaign: string): Promise<void> {
    if (await this.redis.sismember(keys.campaigns, campaign)) return;
    const known = await this.campaigns();
    throw new Error(`no campaign "${campaign}" on ${redact(this.url)}; ${known.length ? `campaigns: ${known.join(', ')}` : 'no campaigns there'}`);
  }

  async workers(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  async status(campaign?: string): Promise<CampaignStatus[]> {
    if (campaign) await this.check(campaign);
    const names = campaign ? [campaign] : await this.campaigns();
    const byState = new Map<string, Record<string, number>>();
    for (const state of ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const) {
      for (const job of await this.queue.getJobs([state])) {
        if (!job?.id) continue;
        const counts = byState.get(campaignOf(job.id)) ?? {};
        counts[state] = (counts[state] ?? 0) + 1;
        byState.set(campaignOf(job.id), counts);
      }
    }
    const out: CampaignStatus[] = [];
    for (const name of names) {
      const info = await this.redis.hgetall(keys.campaign(name));
      const ids = await this.redis.smembers(keys.jobs(name));
      let queries = 0;
      let retried = 0;
      for (let i = 0; i < ids.length; i += 1000) {
        const pipe = this.redis.pipeline();
        for (const id of ids.slice(i, i + 1000)) pipe.hmget(keys.task(id), 'booked', 'attempts');
        for (const [, v] of (await pipe.exec()) ?? []) {
          const [booked, attempts] = v as [string | null, string | null];
          queries += Number(booked ?? 0);
          if (Number(attempts ?? 0) > 1) retried++;
        }
      }
      const c = byState.get(name) ?? {};
      out.push({
        campaign: name,
        state: (info.state ?? 'running') as CampaignState,
        submittedAt: info.submittedAt ?? null,
        endpoint: info.endpoint ?? null,
        tasks: ids.length,
        done: await this.redis.hlen(keys.records(name)),
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
        queries,
        retried,
      });
    }
    return out;
  }

  async pause(campaign: string): Promise<void> {
    await this.check(campaign);
    await this.redis.hset(keys.campaign(campaign), 'state', 'paused');
  }

  /** Resumes a paused (or cancelled) campaign; its delayed tasks start at once. */
  async resume(campaign: string): Promise<void> {
    await this.check(campaign);
    await this.redis.hset(keys.campaign(campaign), 'state', 'running');
    for (const job of await this.queue.getJobs(['delayed'])) if (job?.id && campaignOf(job.id) === campaign) await job.promote().catch(() => {});
  }

  /** Deletes a campaign with no task in flight from Redis (jobs, records, journals, state); the number of tasks it had. */
  async remove(campaign: string): Promise<number> {
    await this.check(campaign);
    const ids = await this.redis.smembers(keys.jobs(campaign));
    const jobs = (await Promise.all(ids.map((id) => this.queue.getJob(id)))).filter((j) => j !== undefined);
    const states = await Promise.all(jobs.map((j) => j.getState()));
    const running = states.filter((s) => s === 'active').length;
    if (running)
      throw new Error(`campaign "${campaign}" has ${running} tasks in flight: cancel it (rs-arena queue cancel) and remove it when they have stopped`);
    for (const job of jobs) await job.remove();
    for (let i = 0; i < ids.length; i += 500) await this.redis.del(...ids.slice(i, i + 500).flatMap((id) => [keys.task(id), keys.log(id)]));
    await this.redis
      .multi()
      .del(keys.campaign(campaign), keys.jobs(campaign), keys.records(campaign), keys.done(campaign))
      .srem(keys.campaigns, campaign)
      .exec();
    return ids.length;
  }

  /** Cancels a campaign: removes its queued tasks (the number removed); tasks in flight stop at their next query. */
  async cancel(campaign: string): Promise<number> {
    await this.check(campaign);
    await this.redis.hset(keys.campaign(campaign), 'state', 'cancelled');
    let removed = 0;
    for (const id of await this.redis.smembers(keys.jobs(campaign))) {
      const job = await this.queue.getJob(id);
      if (!job) continue;
      const state = await job.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'failed') {
        // A job a worker takes at this very moment is locked: it stops at its first booking instead.
        if (
          await job.remove().then(
            () => true,
            () => false,
          )
        )
          removed++;
      }
    }
    return removed;
  }
}
