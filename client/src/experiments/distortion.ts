// Experiment 1 (paper Fig. 5): distortion vs accuracy. For each model and RS setting (σ, n) and
// confidence level P_a, each attack runs on the same test images with up to `budget` queries
// against an oracle that answers "adversarial at level P_a":
//  - σ = 0: the plain top-1 endpoint (client key);
//  - σ > 0, 'shortcut': the paper's simulation, ⌈n·P_a⌉ wrong micro-decisions (evaluator votes);
//  - σ > 0, 'repeated': the realistic attacker, ℓ paid top-1 queries per point (client key).
// Each final point is then assessed: eq. (4) from fresh votes, beside the eq. (5) threshold.
// The config, tasks and record are in records/distortion.ts; the figures in report/sections/.
import { Deployments, assessedAttack, checkAttack, describeRun, resumable, taskCost } from './assessed-attack.js';
import { type ExperimentContext, resultsFile } from './context.js';
import { type DistortionConfig, type DistortionRecord, distortion, distortionKey, distortionTasks } from './records/distortion.js';
import { attackCodeVersion } from '../provenance.js';
import { runTasks } from './tasks.js';

/** The config schema, with attack names and options checked against the attack registry. */
export const CheckedDistortionConfig = distortion.config.superRefine((c, ctx) => {
  c.attacks.forEach((a, i) => checkAttack(ctx, a, ['attacks', i]));
  for (const [a, options] of Object.entries(c.attackOptions ?? {})) checkAttack(ctx, a, ['attackOptions', a], options);
});

export async function runDistortion(ctx: ExperimentContext, c: DistortionConfig): Promise<DistortionRecord[]> {
  const file = resultsFile(ctx, distortion, c);
  const tasks = distortionTasks(c);
  const deployments = new Deployments(ctx);
  await deployments.prepare(tasks);
  try {
    const payload = (task: (typeof tasks)[number]) => ({ task, images: c.images });
    await runTasks({
      experiment: 'distortion',
      kind: assessedAttack,
      tasks,
      key: distortionKey,
      payload,
      file,
      record: distortion.record,
      env: { ctx, deployments },
      done: (r) => resumable(ctx, r),
      version: (t) => attackCodeVersion(t.attack),
      describe: describeRun,
      cost: taskCost,
    });
  } finally {
    await deployments.close();
  }
  return distortion.select!(file.all(), c);
}
