// "The query cost of confidence", its data: what it costs a real attacker, who sees only top-1
// answers, to return points that *are* adversarial at level P_a against a smoothed classifier
// (eq. 4), beside the paper's shortcut, which gets that verdict from one evaluator votes call per
// point. Per RS setting and n: the realistic attackers (noise-aware attacks deciding through their
// sequential test, plain attacks with the fixed-ℓ repeated oracle) at up to `budget` top-1 queries,
// the shortcut's plain attacks at `shortcut.budget` points; every final point assessed by fresh votes.
import { z } from 'zod';
import { defineExperiment } from './experiment.js';
import { DistortionRecord, type DistortionTask, PointAssessment, Setting, distortionKey, imageSeed } from './distortion.js';

const Level = z.number().gt(0).lt(1);
const Count = z.number().int().positive();
/** A shortcut attack: a name (the attack's defaults), or a name with options; always { attack, options } once parsed. */
const ShortcutAttack = z
  .union([z.string(), z.strictObject({ attack: z.string(), options: z.record(z.string(), z.unknown()).default({}) })])
  .transform((a) => (typeof a === 'string' ? { attack: a, options: {} } : a));

export const ConfidenceCostConfig = z.strictObject({
  /** RS settings (σ > 0: without noise every oracle is the same). */
  settings: z.array(Setting.refine((s) => s.sigma > 0, { message: 'σ must be > 0: the experiment is about randomized answers', path: ['sigma'] })).min(1),
  /** Each n with the images attacked at it (a top-1 query costs n forward passes). */
  ns: z.array(z.strictObject({ n: Count, images: Count })).min(1),
  Pa: Level,
  /**
   * The realistic attackers. Without `repeats`, a noise-aware attack (options with Pa: the runner
   * checks) deciding through its own sequential test; with `repeats`, a plain attack on the fixed-ℓ
   * repeated oracle (ℓ paid answers per point). `images` caps the images this attacker runs on,
   * `ns` the n; `options` as `--option` would give them.
   */
  attackers: z
    .array(
      z.strictObject({
        attack: z.string(),
        repeats: Count.optional(),
        images: Count.optional(),
        /** The n it runs at (default: every n of `ns`). */
        ns: z.array(Count).optional(),
        options: z.record(z.string(), z.unknown()).optional(),
        /** Its top-1 queries per run, when not the experiment's `budget` (a longer curve on a few images). */
        budget: Count.optional(),
      }),
    )
    .min(1),
  /** Top-1 queries per realistic run. */
  budget: Count,
  /**
   * The paper's shortcut beside them: these plain attacks with `budget` points each (evaluator votes).
   * An attack is its name (its defaults) or its name and options (a noise-aware attacker's control,
   * attacks/controls.ts: the same algorithm on the same schedule).
   */
  shortcut: z.strictObject({ attacks: z.array(ShortcutAttack).min(1), budget: Count }),
  /** Fresh votes that assess each final point. */
  assessSamples: Count,
  /** Query counts at which the figure reads each run's best L2 (default: a log grid up to the budget). */
  checkpoints: z.array(Count).optional(),
});
export type ConfidenceCostConfig = z.output<typeof ConfidenceCostConfig>;

const CostOracle = z.enum(['sequential', 'repeated', 'shortcut']);

export const ConfidenceCostRecord = DistortionRecord.extend({ oracle: CostOracle, Pa: z.number(), assessment: PointAssessment.nullable() });
export type ConfidenceCostRecord = z.output<typeof ConfidenceCostRecord>;

/** A distortion task's fields, at one level and through one of the realistic oracles or the shortcut. */
export type ConfidenceCostTask = Omit<DistortionTask, 'Pa' | 'oracle'> & { Pa: number; oracle: z.output<typeof CostOracle> };

/** The tasks, the cheap n first, then image by image (a run stopped halfway compares every attacker on the same images). */
export function confidenceCostTasks(c: ConfidenceCostConfig): ConfidenceCostTask[] {
  const tasks: ConfidenceCostTask[] = [];
  const ns = [...c.ns].sort((a, b) => a.n - b.n);
  for (const { n, images } of ns) {
    for (let image = 0; image < images; image++) {
      for (const s of c.settings) {
        const common = { model: s.model, sigma: s.sigma, n, Pa: c.Pa, seed: imageSeed(image), assessSamples: c.assessSamples, image };
        for (const a of c.attackers) {
          if (image >= (a.images ?? Infinity) || (a.ns && !a.ns.includes(n))) continue;
          const sequential = a.repeats === undefined;
          // A noise-aware attack's level is the experiment's: it is part of its options (and key).
          const attackOptions = sequential ? { ...a.options, Pa: c.Pa } : { ...a.options };
          tasks.push({
            ...common,
            oracle: sequential ? 'sequential' : 'repeated',
            repeats: sequential ? 1 : (a.repeats ?? 1),
            attack: a.attack,
            attackOptions,
            budget: a.budget ?? c.budget,
          });
        }
        for (const { attack, options } of c.shortcut.attacks)
          tasks.push({ ...common, oracle: 'shortcut', repeats: 1, attack, attackOptions: { ...options }, budget: c.shortcut.budget });
      }
    }
  }
  return tasks;
}

/** The same fields make the same key as a distortion run's. */
export const confidenceCostKey: (t: ConfidenceCostTask | ConfidenceCostRecord) => string = distortionKey;

/** The default checkpoints: 1, 2, 4 and 10 × each power of ten up to the largest budget, and each attacker's budget. */
export function costCheckpoints(c: ConfidenceCostConfig): number[] {
  if (c.checkpoints) return [...c.checkpoints].sort((a, b) => a - b);
  const budgets = [c.budget, ...c.attackers.map((a) => a.budget ?? c.budget)];
  const top = Math.max(...budgets);
  const out = new Set<number>(budgets);
  for (let p = 100; p <= top; p *= 10) for (const m of [1, 2, 4]) if (m * p <= top) out.add(m * p);
  return [...out].sort((a, b) => a - b);
}

export const confidenceCost = defineExperiment({
  name: 'confidence-cost',
  config: ConfidenceCostConfig,
  record: ConfidenceCostRecord,
  file: 'confidence-cost.jsonl',
  key: confidenceCostKey,
  select: (records, c) => {
    const keys = new Set(confidenceCostTasks(c).map(confidenceCostKey));
    return records.filter((r) => keys.has(confidenceCostKey(r)));
  },
});
