// Experiment 1 (paper Fig. 5): distortion vs accuracy. For each model and RS setting (σ, n) and
// confidence level P_a, each attack runs on the same test images with up to `budget` queries
// against an oracle that answers "adversarial at level P_a":
//  - σ = 0: the plain top-1 endpoint (client key);
//  - σ > 0, 'shortcut': the paper's simulation, ⌈n·P_a⌉ wrong micro-decisions (evaluator votes);
//  - σ > 0, 'repeated': the realistic attacker, ℓ paid top-1 queries per point (client key).
// Each final point is then assessed: eq. (4) from fresh votes, beside the eq. (5) threshold.
// The config, tasks and record are in records/distortion.ts; the figures in report/sections/.
import { runAttack } from '../attack-run.js';
import { ATTACKS, type AttackName, isAttackName } from '../attacks/index.js';
import type { Oracle } from '../oracle.js';
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { RepeatedOracle, ShortcutOracle, assessPoint, type VoteCounter } from './confidence.js';
import { type ExperimentContext, deploymentFor, inputsFor, pool, resultsFile } from './context.js';
import { type DistortionConfig, type DistortionRecord, type DistortionTask, distortion, distortionKey, distortionTasks } from './records/distortion.js';

/** The config schema, with attack names and options checked against the attack registry. */
export const CheckedDistortionConfig = distortion.config.superRefine((c, ctx) => {
  c.attacks.forEach((a, i) => {
    if (!isAttackName(a)) ctx.addIssue({ code: 'custom', path: ['attacks', i], message: `unknown attack "${a}"; choose from ${Object.keys(ATTACKS).join(', ')}` });
  });
  for (const [a, options] of Object.entries(c.attackOptions ?? {})) {
    if (!isAttackName(a)) ctx.addIssue({ code: 'custom', path: ['attackOptions', a], message: `unknown attack "${a}"` });
    else {
      const r = ATTACKS[a].options.safeParse(options);
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: ['attackOptions', a, ...issue.path.map(String)], message: issue.message });
    }
  }
});

export async function runDistortion(ctx: ExperimentContext, c: DistortionConfig): Promise<DistortionRecord[]> {
  const file = resultsFile(ctx, distortion, c);
  const tasks = distortionTasks(c);
  const oracles = new Map<string, HttpOracle>();
  const deployment = async (t: DistortionTask) => {
    const id = await deploymentFor(ctx, t.model, t.sigma, t.n);
    if (!oracles.has(id)) oracles.set(id, await HttpOracle.connect({ endpoint: ctx.endpoint, key: ctx.keys.client, deployment: id, connections: ctx.concurrency }));
    return { id, http: oracles.get(id)! };
  };
  // Deployments first, sequentially (the admin API is not a race).
  for (const t of tasks) await deployment(t);
  const ticker = new Ticker('distortion', tasks.length);
  try {
    await pool(tasks, ctx.concurrency, async (t) => {
      const key = distortionKey(t);
      const done = file.get(key);
      if (done) return ticker.tick(`${key} (resumed)`, true);
      const { id, http } = await deployment(t);
      const votes: VoteCounter = async (inputs, count, n) => (await ctx.evaluator.votes(id, inputs, [count, ...http.inputShape], n)).counts;
      const { images } = await inputsFor(ctx, t.model, c.images);
      const x0 = images[t.image].values;
      const label = images[t.image].label!;
      let inner: Oracle = http;
      if (t.oracle === 'shortcut') inner = new ShortcutOracle(http, votes, label, t.n, t.Pa!);
      else if (t.oracle === 'repeated') inner = new RepeatedOracle(http, label, t.repeats, t.Pa!);
      const r = await runAttack({ oracle: inner, attack: t.attack as AttackName, options: t.attackOptions, x0, label, budget: t.budget, seed: t.seed, cost: t.repeats });
      const assessment =
        t.sigma > 0 && r.run.success ? await assessPoint(votes, r.adversarial!, label, t.n, t.Pa ?? 0.5, t.assessSamples, t.image) : null;
      const record: DistortionRecord = {
        ...r.run,
        key,
        ...t,
        label,
        wallMs: Math.round(r.run.wallMs),
        assessment,
      };
      file.add(record);
      ticker.tick(`${t.model} σ=${t.sigma} n=${t.n} Pa=${t.Pa ?? '–'} ${t.oracle} ${t.attack} #${t.image}: ${record.misclassified ? 'misclassified' : record.success ? `L2 ${record.l2!.toFixed(3)}` : record.stopReason}`);
    });
  } finally {
    for (const o of oracles.values()) await o.close();
  }
  return distortion.select!(file.all(), c);
}
