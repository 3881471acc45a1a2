// `rs-arena audit … --queue redis://…`: the audit's attacks (image × attacker of the battery) as
// jobs that `rs-arena worker` processes run (docs/scale-out.md), through the same journal as an
// experiment's tasks, so a task rerun after its worker died never spends its budget twice.
//  - The task kind `audit-attack`: one attacker on one image of the audit. A job carries the
//    target's flags (protocol resolved, encoding, shapes…), the image itself (float32, base64: the
//    worker may not have the submitter's folder) and the campaign's fields, never a key or a header:
//    each worker builds the target from its own endpoint and credentials (--client-key, --header).
//  - Its record is the local audit's (campaign.ts's attackImage: same fields, seed and key) plus
//    the adversarial found, which the submitter saves into the audit's adversarials/ folder and
//    drops from the record before it goes into attacks.jsonl, as a local audit writes it.
import { z } from 'zod';
import type { AttackName } from '../attacks/index.js';
import { type CampaignSpec, attackImage, attackRecordKey, saveAdversarial, withFiles } from '../campaign.js';
import type { ExperimentContext } from '../experiments/context.js';
import type { TaskEnv, TaskKind } from '../experiments/tasks.js';
import type { Oracle } from '../oracle.js';
import { attackCodeVersion } from '../provenance.js';
import { QueueTaskRunner } from '../queue/submit.js';
import { AttackRecord, canonical } from '../record.js';
import { ResultsFile } from '../results-file.js';
import { type Target, type TargetArgs, connectTarget } from '../target.js';

/** The target's flags a job carries: everything of TargetArgs but the endpoint, the key and the headers (the worker's own). */
const TargetFlags = z.object({
  deployment: z.string(),
  protocol: z.string(),
  encoding: z.string().optional(),
  'model-version': z.string().optional(),
  'input-shape': z.string().optional(),
  range: z.string().optional(),
  'input-name': z.string().optional(),
  'output-name': z.string().optional(),
  'max-batch': z.string().optional(),
  template: z.string().optional(),
  'label-path': z.string().optional(),
  classes: z.string().optional(),
  layout: z.string().optional(),
});
type TargetFlags = z.output<typeof TargetFlags>;

const AuditPayload = z.object({
  target: TargetFlags,
  /** The fields of the audit's records (and their resume key), as the submitter names them. */
  endpoint: z.string(),
  protocol: z.string(),
  encoding: z.string(),
  labelSource: z.string().optional(),
  attack: z.string(),
  budget: z.number().int().positive(),
  seed: z.number().int(),
  image: z.object({ id: z.string(), label: z.number().int(), values: z.string() }),
});
type AuditPayload = z.output<typeof AuditPayload>;

/** A worker's record: the audit's, with the adversarial found (float32 little-endian, base64) for the submitter to save. */
export const QueuedAuditRecord = AttackRecord.extend({ adversarial: z.string().nullable().optional() });
export type QueuedAuditRecord = z.output<typeof QueuedAuditRecord>;

const encode = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
function decode(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Each worker's targets, per endpoint and flags: connected once, shared by its tasks. */
const targets = new WeakMap<TaskEnv, Map<string, Promise<Target>>>();

function targetFor(env: TaskEnv, flags: TargetFlags): Promise<Target> {
  let mine = targets.get(env);
  if (!mine) targets.set(env, (mine = new Map()));
  const id = canonical(flags);
  let t = mine.get(id);
  if (!t) {
    const { ctx } = env;
    const args: TargetArgs = { ...flags, endpoint: ctx.endpoint, key: ctx.keys.client || undefined, header: ctx.headers ?? [], connections: ctx.concurrency };
    t = connectTarget(args);
    // A failed connection is not kept: the job's retry connects again.
    t.catch(() => mine.delete(id));
    mine.set(id, t);
  }
  return t;
}

/** One attacker of an audit's battery on one image (a queue worker runs it by this name). */
export const auditAttack: TaskKind<AuditPayload, QueuedAuditRecord> = {
  name: 'audit-attack',
  payload: AuditPayload,
  budget: (p) => p.budget,
  async run(env, p, key, journal) {
    const target = await targetFor(env, p.target);
    let oracle: Oracle = target.oracle;
    if (journal) oracle = journal.wrap(oracle);
    const img = { id: p.image.id, label: p.image.label, values: decode(p.image.values) };
    const spec = {
      oracle,
      endpoint: p.endpoint,
      deployment: p.target.deployment,
      attack: p.attack as AttackName,
      budget: p.budget,
      labelSource: p.labelSource,
      protocol: p.protocol,
      encoding: p.encoding,
    };
    const { record, adversarial } = await attackImage(spec, img, key, p.seed, { budget: journal?.attemptBudget });
    return { ...record, ...(journal ? { recovery: journal.recovery() } : {}), adversarial: adversarial ? encode(adversarial) : null };
  },
  async close(env) {
    for (const t of targets.get(env)?.values() ?? []) await (await t.catch(() => null))?.oracle.close();
    targets.delete(env);
  },
};

export interface AuditQueue {
  url: string;
  campaign: string;
  /** The endpoint the workers attack unless given theirs (user:password is left out of the jobs). */
  endpoint: string;
  target: TargetFlags;
  log(line: string): void;
}

/**
 * The audit's campaigns (one per attacker, over the same images and results file) as one batch of
 * jobs: resubmitted, it queues nothing done or in flight; a task already in attacks.jsonl is not
 * submitted. Returns the records as runCampaign would: per campaign, in image order.
 */
export async function queuedAttacks(q: AuditQueue, campaigns: CampaignSpec[]): Promise<AttackRecord[]> {
  if (!campaigns.length) return [];
  const { out, saveDir } = campaigns[0];
  if (!out || campaigns.some((c) => c.out !== out)) throw new Error('queued audit: the campaigns share one results file');
  const file = new ResultsFile(out, { schema: QueuedAuditRecord, key: attackRecordKey });
  const tasks = campaigns.flatMap((c) =>
    c.images.map((img) => ({
      c,
      img,
      key: attackRecordKey({
        endpoint: c.endpoint,
        deployment: c.deployment,
        attack: c.attack,
        attackOptions: c.attackOptions ?? {},
        budget: c.budget,
        seed: c.seed ?? 0,
        image: img.id,
        protocol: c.protocol,
        encoding: c.encoding,
      }),
    })),
  );
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  // Only the queue runner reads the environment: the endpoint its jobs name.
  const env = { ctx: { endpoint: q.endpoint } as ExperimentContext } as TaskEnv;
  const runner = new QueueTaskRunner({ url: q.url, campaign: q.campaign, log: q.log });
  try {
    await runner.run({
      experiment: 'audit',
      kind: auditAttack,
      tasks,
      key: (t) => t.key,
      payload: ({ c, img }) => {
        if (img.label === null) throw new Error(`queued audit: image ${img.id} has no label`);
        return {
          target: q.target,
          endpoint: c.endpoint,
          protocol: c.protocol!,
          encoding: c.encoding!,
          labelSource: c.labelSource,
          attack: c.attack,
          budget: c.budget,
          seed: c.seed ?? 0,
          image: { id: img.id, label: img.label, values: encode(img.values) },
        };
      },
      file,
      record: QueuedAuditRecord,
      env,
      version: (t) => attackCodeVersion(t.c.attack),
      describe: (r) =>
        `${r.attack} ${r.image}: ${r.misclassified ? 'misclassified' : r.success ? `L2 ${r.l2!.toFixed(3)}` : r.stopReason} (${r.queries.total} queries)`,
      async collect(r) {
        const { adversarial, ...record } = r;
        const t = byKey.get(r.key);
        const files = adversarial && t && saveDir ? await saveAdversarial(t.c, r.key, record, decodeExact(adversarial, t.c.oracle), saveDir) : null;
        return withFiles(record, files);
      },
    });
  } finally {
    await runner.close();
  }
  return tasks.map((t) => {
    const r = file.get(t.key);
    if (!r) throw new Error(`queued audit: no record for ${t.key}`);
    const { adversarial: _, ...record } = r;
    return record;
  });
}

/** The adversarial a worker sent back, checked against the input shape. */
function decodeExact(text: string, oracle: Oracle): Float32Array {
  const x = decode(text);
  const size = oracle.inputShape.reduce((a, b) => a * b, 1);
  if (x.length !== size) throw new Error(`queued audit: a worker sent back an adversarial of ${x.length} values, not ${size}`);
  return x;
}
