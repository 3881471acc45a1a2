// One line of a results file: one attack on one image. The schema is the single definition the
// CLI writes, the resume logic reads and the experiments aggregate.
import { z } from 'zod';

export const PhaseCount = z.object({ queries: z.number().int(), bad: z.number().int() });

export const AttackRecord = z.object({
  /** What identifies the run for resuming: image, attack, deployment, budget and seed. */
  key: z.string(),
  image: z.string(),
  endpoint: z.string(),
  deployment: z.string(),
  attack: z.string(),
  attackOptions: z.record(z.string(), z.unknown()),
  budget: z.number().int(),
  seed: z.number().int(),
  /** Ground truth when the input set has labels; null otherwise. */
  trueLabel: z.number().int().nullable(),
  /** The label the attack moves away from: the true label, or the endpoint's answer on x0. */
  originalLabel: z.number().int(),
  adversarialLabel: z.number().int().nullable(),
  /** x0 was already answered with another label: nothing to attack (counts against accuracy). */
  misclassified: z.boolean(),
  success: z.boolean(),
  l2: z.number().nullable(),
  linf: z.number().nullable(),
  queries: z.object({ total: z.number().int(), bad: z.number().int(), perPhase: z.record(z.string(), PhaseCount) }),
  history: z.array(z.tuple([z.number(), z.number()])),
  stopReason: z.string(),
  /** How the endpoint's answers became labels: its own top-1 label, or the argmax of its class scores taken on the client (v2 models). */
  labelSource: z.string().optional(),
  wallMs: z.number(),
  /** CPU time the client itself spent (process-wide: with concurrency > 1 it includes other attacks). */
  clientCpuMs: z.number(),
  /** Float32 little-endian file of the adversarial, and a PNG preview (paths relative to the results file). */
  adversarialFile: z.string().nullable(),
  previewFile: z.string().nullable(),
  finishedAt: z.string(),
});
export type AttackRecord = z.infer<typeof AttackRecord>;

export function recordKey(p: { image: string; attack: string; deployment: string; budget: number; seed: number }): string {
  return `${p.deployment}|${p.attack}|${p.budget}|${p.seed}|${p.image}`;
}
