// "The query cost of confidence" (records/confidence-cost.ts): each realistic attacker and the
// paper's shortcut on the same images of each RS setting, every final point assessed by fresh votes.
import { ATTACKS, decidesAtLevel, isAttackName } from '../attacks/index.js';
import { Deployments, assessedAttack, checkAttack, describeRun, resumable, taskCost } from './assessed-attack.js';
import { type ExperimentContext, resultsFile } from './context.js';
import { type ConfidenceCostConfig, type ConfidenceCostRecord, confidenceCost, confidenceCostKey, confidenceCostTasks } from './records/confidence-cost.js';
import { attackCodeVersion } from '../provenance.js';
import { type TaskKind, runTasks } from './tasks.js';

/** The config schema, with attack names, options and kinds checked against the attack registry. */
export const CheckedConfidenceCostConfig = confidenceCost.config.superRefine((c, ctx) => {
  c.attackers.forEach((a, i) => {
    checkAttack(ctx, a.attack, ['attackers', i, 'attack'], a.options ?? {});
    if (!isAttackName(a.attack)) return;
    const aware = decidesAtLevel(a.attack);
    if (a.repeats === undefined && !aware) {
      ctx.addIssue({
        code: 'custom',
        path: ['attackers', i, 'repeats'],
        message: `"${a.attack}" is a plain attack: give it repeats (ℓ answers per point), or choose a noise-aware attack (${Object.keys(ATTACKS)
          .filter((k) => decidesAtLevel(k as never))
          .join(', ')})`,
      });
    }
    if (a.repeats !== undefined && aware)
      ctx.addIssue({ code: 'custom', path: ['attackers', i, 'repeats'], message: `"${a.attack}" decides through its own sequential test: leave repeats out` });
    if (a.options && 'Pa' in a.options) ctx.addIssue({ code: 'custom', path: ['attackers', i, 'options', 'Pa'], message: "the level is the experiment's Pa" });
  });
  c.shortcut.attacks.forEach(({ attack, options }, i) => {
    checkAttack(ctx, attack, ['shortcut', 'attacks', i], options);
    if (isAttackName(attack) && decidesAtLevel(attack))
      ctx.addIssue({ code: 'custom', path: ['shortcut', 'attacks', i], message: `"${attack}" is noise-aware: the shortcut runs plain attacks` });
  });
});

export async function runConfidenceCost(ctx: ExperimentContext, c: ConfidenceCostConfig): Promise<ConfidenceCostRecord[]> {
  const file = resultsFile(ctx, confidenceCost, c);
  const tasks = confidenceCostTasks(c);
  const deployments = new Deployments(ctx);
  await deployments.prepare(tasks);
  const images = Math.max(...c.ns.map((x) => x.images));
  try {
    // The same runs as the distortion experiment's, through the query-cost oracles (a record of this experiment's schema).
    const kind = assessedAttack as unknown as TaskKind<{ task: (typeof tasks)[number]; images: number }, ConfidenceCostRecord>;
    const payload = (task: (typeof tasks)[number]) => ({ task, images });
    await runTasks({
      experiment: 'confidence-cost',
      kind,
      tasks,
      key: confidenceCostKey,
      payload,
      file,
      record: confidenceCost.record,
      env: { ctx, deployments },
      done: (r) => resumable(ctx, r),
      version: (t) => attackCodeVersion(t.attack),
      describe: describeRun,
      cost: taskCost,
    });
  } finally {
    await deployments.close();
  }
  return confidenceCost.select!(file.all(), c);
}
