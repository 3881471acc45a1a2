// One attack run of an experiment against a deployment, through the oracle its task names, and the
// fresh-vote assessment of the point it returns (eq. 4): what the distortion experiment and the
// query-cost experiment both do per task, written once.
//  - plain: the top-1 endpoint itself (σ = 0, or a noise-aware attack that decides through its own
//    sequential test: it needs nothing but paid top-1 answers);
//  - shortcut: the paper's simulation, ⌈n·P_a⌉ wrong micro-decisions (evaluator votes);
//  - repeated: the fixed-ℓ realistic attacker, ℓ paid top-1 queries per point.
import { runAttack } from '../attack-run.js';
import { attackCodeVersion } from '../provenance.js';
import { z } from 'zod';
import { ATTACKS, type AttackName, isAttackName } from '../attacks/index.js';
import type { Oracle } from '../oracle.js';
import { HttpOracle } from '../oracle-http.js';
import { RepeatedOracle, ShortcutOracle, assessPoint, type VoteCounter } from './confidence.js';
import { type ExperimentContext, deploymentFor, deploymentId, inputsFor } from './context.js';
import type { TaskJournal } from '../queue/journal.js';
import { type DistortionRecord, type DistortionTask, OracleKind } from './records/distortion.js';
import type { TaskKind } from './tasks.js';

/** What one assessed run needs: the deployment (model, σ, n), the oracle and the attack (a distortion task's fields). */
export type AssessedTask = DistortionTask;

/**
 * A query's HTTP round trip in forward passes: profile:server measured 300–500 µs of server CPU per
 * request at n = 1 against some 50 µs per pass, so a 2,000-query run at n = 10 costs about twice
 * its passes and one at n = 100 about 1.1 times.
 */
const PASSES_PER_REQUEST = 10;

/**
 * A run's work in forward passes, for the time left of a sweep: its budget in queries, each n
 * passes under RS (the shortcut's early stop makes fewer) plus the request, and the assessment's votes.
 */
export const taskCost = (t: AssessedTask): number => t.budget * ((t.sigma > 0 ? t.n : 1) + PASSES_PER_REQUEST) + (t.sigma > 0 ? t.assessSamples : 0);

/** The experiment's deployments and one client-key HTTP oracle per deployment, shared by its runs. */
export class Deployments {
  /** By setting: each is created (through the admin API) and connected once, not once per run. */
  private readonly settings = new Map<string, Promise<{ id: string; http: HttpOracle }>>();
  /** `create: false`: the deployments exist (a queue worker: its submitter created them; it has no admin key). */
  constructor(
    private readonly ctx: ExperimentContext,
    private readonly create = true,
  ) {}

  /** Creates the deployments of `tasks` first, one by one (the admin API is not a race). */
  async prepare(tasks: Pick<AssessedTask, 'model' | 'sigma' | 'n'>[]): Promise<void> {
    for (const t of tasks) await this.get(t);
  }

  get(t: Pick<AssessedTask, 'model' | 'sigma' | 'n'>): Promise<{ id: string; http: HttpOracle }> {
    const key = `${t.model}|${t.sigma}|${t.n}`;
    let setting = this.settings.get(key);
    if (!setting) {
      const id = this.create ? deploymentFor(this.ctx, t.model, t.sigma, t.n) : Promise.resolve(deploymentId(t.model, t.sigma, t.n));
      setting = id.then(async (id) => ({
        id,
        http: await HttpOracle.connect({ endpoint: this.ctx.endpoint, key: this.ctx.keys.client, deployment: id, connections: this.ctx.concurrency }),
      }));
      this.settings.set(key, setting);
    }
    return setting;
  }

  async close(): Promise<void> {
    for (const s of this.settings.values()) await (await s).http.close();
  }
}

/**
 * Runs `t` on test image `t.image` of the first `images` and assesses its final point; the record
 * without its key. With a queue worker's `journal`, the attack's queries are booked and replayed
 * there, and its budget is the task's minus what earlier attempts lost (queue/journal.ts).
 */
async function attackAndAssess(
  ctx: ExperimentContext,
  deployments: Deployments,
  t: AssessedTask,
  images: number,
  journal?: TaskJournal,
): Promise<Omit<DistortionRecord, 'key'>> {
  const { id, http } = await deployments.get(t);
  const votes: VoteCounter = async (inputs, count, n, stop) => (await ctx.evaluator.votes(id, inputs, [count, ...http.inputShape], n, stop)).counts;
  const inputs = await inputsFor(ctx, t.model, images);
  const x0 = inputs.images[t.image].values;
  const label = inputs.images[t.image].label!;
  let oracle: Oracle = http;
  if (t.oracle === 'shortcut') oracle = new ShortcutOracle(http, votes, label, t.n, t.Pa!);
  else if (t.oracle === 'repeated') oracle = new RepeatedOracle(http, label, t.repeats, t.Pa!);
  if (journal) oracle = journal.wrap(oracle, t.repeats);
  const budget = journal ? journal.attemptBudget : t.budget;
  const r = await runAttack({ oracle, attack: t.attack as AttackName, options: t.attackOptions, x0, label, budget, seed: t.seed, cost: t.repeats });
  const assessment = t.sigma > 0 && r.run.success ? await assessPoint(votes, r.adversarial!, label, t.n, t.Pa ?? 0.5, t.assessSamples, t.image) : null;
  return { ...r.run, ...t, label, wallMs: Math.round(r.run.wallMs), assessment, ...(journal ? { recovery: journal.recovery() } : {}) };
}

/** The payload of an assessed-attack job: the task (a distortion or query-cost task) and the image count it draws from. */
const AssessedPayload = z.object({
  task: z.object({
    model: z.string(),
    sigma: z.number(),
    n: z.number().int(),
    Pa: z.number().nullable(),
    oracle: OracleKind,
    repeats: z.number().int().positive(),
    attack: z.string(),
    attackOptions: z.record(z.string(), z.unknown()),
    budget: z.number().int().nonnegative(),
    seed: z.number().int(),
    assessSamples: z.number().int(),
    image: z.number().int().nonnegative(),
  }),
  images: z.number().int().positive(),
});

/** The task kind of the distortion and query-cost experiments: one assessed attack run (a queue worker runs it by this name). */
export const assessedAttack: TaskKind<z.output<typeof AssessedPayload>, DistortionRecord> = {
  name: 'assessed-attack',
  payload: AssessedPayload,
  needsEvaluator: true,
  budget: (p) => p.task.budget,
  run: async ({ ctx, deployments }, p, key, journal) => ({ ...(await attackAndAssess(ctx, deployments, p.task, p.images, journal)), key }),
};

/** The progress line of a finished run. */
export const describeRun = (
  r: Pick<DistortionRecord, 'model' | 'sigma' | 'n' | 'Pa' | 'attack' | 'image' | 'misclassified' | 'success' | 'l2' | 'stopReason'> & { oracle: string },
) =>
  `${r.model} σ=${r.sigma} n=${r.n} Pa=${r.Pa ?? '–'} ${r.oracle} ${r.attack} #${r.image}: ${r.misclassified ? 'misclassified' : r.success ? `L2 ${r.l2!.toFixed(3)}` : r.stopReason}`;

/** A config's attack name (and its options, when given) checked against the attack registry: issues at `path`. */
export function checkAttack(ctx: z.RefinementCtx, name: string, path: (string | number)[], options?: Record<string, unknown>): void {
  if (!isAttackName(name)) {
    ctx.addIssue({ code: 'custom', path, message: `unknown attack "${name}"; choose from ${Object.keys(ATTACKS).join(', ')}` });
    return;
  }
  if (options === undefined) return;
  const r = ATTACKS[name].options.safeParse(options);
  if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: [...path, ...issue.path.map(String)], message: issue.message });
}

/** A record to resume from: made by the current attack code (or stale ones kept on request); otherwise the run is redone and replaces it. */
export const resumable = (ctx: Pick<ExperimentContext, 'keepStale'>, r: { attack: string; codeVersion?: string } | undefined): boolean =>
  r !== undefined && (ctx.keepStale === true || r.codeVersion === attackCodeVersion(r.attack));
