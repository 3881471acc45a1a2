// Where a distributed campaign lives: a Redis URL (`--queue redis://…`; the Redis the endpoint's
// replicas already share will do), one BullMQ queue named "rs-arena" on it (one queue, so a worker
// serves every campaign and an autoscaler watches one wait list: deploy/k8s/), and rs-arena's own
// keys beside BullMQ's: per campaign its state, job ids, records and completion order; per task its
// query journal (journal.ts). Nothing secret is stored: no API key goes into Redis (workers have
// their own, queue/worker.ts). Names and checks only: the Redis clients (ioredis alone about 0.2 CPU-s
// to load, BullMQ with it 0.3) are in connection.ts, so a command checks its --queue and --campaign
// without loading them.
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The BullMQ queue every campaign's jobs go to (its keys: bull:rs-arena:*; its wait list: bull:rs-arena:wait). */
export const QUEUE_NAME = 'rs-arena';
const P = 'rs-arena:queue';

export const keys = {
  /** SET of campaign names. */
  campaigns: `${P}:campaigns`,
  /** HASH: state (running | paused | cancelled), submittedAt, command, endpoint. */
  campaign: (c: string) => `${P}:campaign:${c}`,
  /** SET of the campaign's job ids (its tasks). */
  jobs: (c: string) => `${P}:campaign:${c}:jobs`,
  /** HASH job id → the task's record (JSON), written by the worker that finished it. */
  records: (c: string) => `${P}:campaign:${c}:records`,
  /** LIST of job ids in the order their records were written (what a submitter follows). */
  done: (c: string) => `${P}:campaign:${c}:done`,
  /** HASH: booked (queries booked against the task's budget, all attempts), attempts. */
  task: (jobId: string) => `${P}:task:${jobId}`,
  /** HASH call index → the answer of that call (journal.ts). */
  log: (jobId: string) => `${P}:task:${jobId}:log`,
};

export type CampaignState = 'running' | 'paused' | 'cancelled';

/** A campaign name: it scopes job ids (resubmitting a campaign adds nothing already queued). */
const CAMPAIGN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Why `campaign` cannot name a campaign, or null; `defaulted`: it is the name of the command's output
 * folder (`folder`), not one given with --campaign.
 */
export function checkCampaign(campaign: string, defaulted: boolean, folder: string): string | null {
  if (CAMPAIGN_NAME.test(campaign)) return null;
  return `--campaign "${campaign}": letters, digits, ".", "_" and "-" only (64 at most)${defaulted ? `; the ${folder}'s name is the default: give --campaign` : ''}`;
}

/** The job id of a task: the campaign, the experiment and a digest of the task's resume key (BullMQ ids cannot hold ':'). */
export const jobIdOf = (campaign: string, experiment: string, key: string) =>
  `${campaign}.${experiment}.${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

/** The campaign a job id belongs to. */
export const campaignOf = (jobId: string) => jobId.slice(0, jobId.indexOf('.'));

/** Why `url` is not a Redis URL, or null. */
export function checkQueueUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `--queue: "${redact(url)}" is not a URL; give redis://host:6379 (or rediss:// for TLS)`;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `--queue: ${u.protocol} is not supported; give redis://host:6379 (or rediss:// for TLS)`;
  return null;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** What a job holds: which task kind runs it, its campaign, experiment and resume key, the endpoint, the task. No key, no secret. */
export const JobData = z.object({
  kind: z.string(),
  campaign: z.string().regex(CAMPAIGN_NAME),
  experiment: z.string(),
  key: z.string(),
  endpoint: z.string(),
  payload: z.unknown(),
});
export type JobData = z.output<typeof JobData>;
