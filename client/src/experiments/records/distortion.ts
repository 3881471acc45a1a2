// Experiment 1 (paper Fig. 5), its data: the config of a distortion sweep, the tasks it makes (one
// attack run per setting, level, oracle kind, attack and image) and the record of one run.
import { z } from 'zod';
import { AttackRun, canonical } from '../../record.js';
import { defineExperiment } from './experiment.js';

export const Setting = z.strictObject({ model: z.string().min(1), sigma: z.number().min(0) });
const Level = z.number().gt(0).lt(1);

export const DistortionConfig = z.strictObject({
  /** Models and σ (0: no RS). */
  settings: z.array(Setting).min(1),
  /** n for σ > 0 (σ = 0 runs once, n = 1). */
  ns: z.array(z.number().int().positive()).min(1),
  Pas: z.array(Level).min(1),
  /** Levels after the first run only for n up to this (each level is a full run; default: every n). */
  extraPaMaxN: z.number().int().positive().optional(),
  /** Attack names (checked against the attack registry by the runner). */
  attacks: z.array(z.string()).min(1),
  /** Options per attack, as `--option` would give them (default: the attack's defaults). */
  attackOptions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  budget: z.number().int().positive(),
  images: z.number().int().positive(),
  /** Fewer images at some n (a costly n on the first images only), e.g. {"10": 4}. */
  imagesAtN: z.record(z.string().regex(/^[1-9][0-9]*$/, 'a key is an n'), z.number().int().positive()).optional(),
  /** Fresh votes to assess each final point (eq. 4). */
  assessSamples: z.number().int().positive(),
  /** The realistic variant, on a subset: ℓ top-1 queries per point. */
  repeated: z
    .strictObject({ settings: z.array(Setting), ns: z.array(z.number().int().positive()), Pas: z.array(Level), repeats: z.number().int().positive() })
    .optional(),
  /** Reported distortion-vs-queries checkpoints. */
  checkpoints: z.array(z.number().int().positive()).optional(),
});
export type DistortionConfig = z.output<typeof DistortionConfig>;

/** Eq. (4) for a final point, from fresh votes (experiments/confidence.ts). */
export const PointAssessment = z.object({
  /** Fresh base-model samples used. */
  samples: z.number().int(),
  /** Estimated π0: the probability that one noisy copy is labelled with the original class. */
  pi0: z.number(),
  pi0Interval: z.tuple([z.number(), z.number()]),
  /** Eq. (4): P[g_{σ,n}(x_a) ≠ y], plurality vote over n, by simulating n-vote draws from the estimated class probabilities. */
  probAdversarial: z.number(),
  /** The same in the paper's binary model, P[Bin(n, 1 − π0) ≥ ñ], with the interval carried from π0's. */
  probAdversarialBinary: z.number(),
  probAdversarialInterval: z.tuple([z.number(), z.number()]),
  /** Eq. (5): the point is adversarial at level P_a when π0 < 1 − I⁻¹_{P_a}(ñ, ñ). */
  eq5Threshold: z.number(),
  eq5Holds: z.boolean(),
  /** The shortcut's verdict on one fresh n-vote draw (what the attack saw, re-run). */
  shortcutVerdict: z.boolean(),
});
export type PointAssessment = z.output<typeof PointAssessment>;

/**
 * How an attack learns "adversarial at level P_a": plain (the top-1 endpoint; σ = 0), shortcut (the
 * paper's simulation), repeated (ℓ paid top-1 queries per point), sequential (a noise-aware attack's
 * own sequential test on paid top-1 queries).
 */
export const OracleKind = z.enum(['plain', 'shortcut', 'repeated', 'sequential']);
export type OracleKind = z.output<typeof OracleKind>;

/** One attack run of the sweep. `attackOptions` are the config's, as given (the attack's defaults apply). */
export const DistortionRecord = AttackRun.extend({
  model: z.string(),
  sigma: z.number(),
  n: z.number().int(),
  Pa: z.number().nullable(),
  oracle: OracleKind,
  repeats: z.number().int(),
  image: z.number().int(),
  label: z.number().int(),
  assessSamples: z.number().int(),
  assessment: PointAssessment.nullable(),
});
export type DistortionRecord = z.output<typeof DistortionRecord>;

export interface DistortionTask {
  model: string;
  sigma: number;
  n: number;
  Pa: number | null;
  oracle: OracleKind;
  repeats: number;
  attack: string;
  attackOptions: Record<string, unknown>;
  budget: number;
  seed: number;
  assessSamples: number;
  image: number;
}

/** The attack's seed on an image (the same for every setting: the settings compare on equal terms). */
export const imageSeed = (image: number) => 1000 * image + 17;

export function distortionTasks(c: DistortionConfig): DistortionTask[] {
  const tasks: DistortionTask[] = [];
  // The images asked at n: all of them, or fewer where imagesAtN says so.
  const imagesAt = (n: number) => Math.min(c.images, c.imagesAtN?.[String(n)] ?? Infinity);
  const add = (model: string, sigma: number, n: number, Pa: number | null, oracle: DistortionTask['oracle'], repeats: number) => {
    const images = imagesAt(n);
    for (const attack of c.attacks) {
      for (let image = 0; image < images; image++) {
        tasks.push({
          model,
          sigma,
          n,
          Pa,
          oracle,
          repeats,
          attack,
          attackOptions: c.attackOptions?.[attack] ?? {},
          budget: c.budget,
          seed: imageSeed(image),
          assessSamples: c.assessSamples,
          image,
        });
      }
    }
  };
  for (const s of c.settings) {
    if (s.sigma === 0) add(s.model, 0, 1, null, 'plain', 1);
    else {
      for (const n of c.ns) {
        // With n = 1 every level P_a needs the single micro-decision wrong: one run covers them all.
        const levels = n === 1 ? [c.Pas[0]] : c.Pas.filter((_, i) => i === 0 || n <= (c.extraPaMaxN ?? Infinity));
        for (const Pa of levels) add(s.model, s.sigma, n, Pa, 'shortcut', 1);
      }
    }
  }
  for (const s of c.repeated?.settings ?? []) {
    for (const n of c.repeated!.ns) for (const Pa of c.repeated!.Pas) add(s.model, s.sigma, n, Pa, 'repeated', c.repeated!.repeats);
  }
  // Image by image: a sweep stopped halfway still compares every setting on the same images. With
  // fewer images at some n (imagesAtN: the costly large n), the cells asked on the most images go
  // first, image by image, then the others: a sweep stopped halfway has its cheap cells on many
  // images (the paper-protocol's n = 10 on 100 costs about a quarter of its n = 50 and 100 on 30).
  return tasks
    .map((t, i) => [t, i] as const)
    .sort((a, b) => imagesAt(b[0].n) - imagesAt(a[0].n) || a[0].image - b[0].image || a[1] - b[1])
    .map(([t]) => t);
}

/** Everything that changes a run's result. The deployment is (model, σ, n) with the runner's fixed noise seed. */
export const distortionKey = (t: Omit<DistortionTask, 'oracle'> & { oracle: string }) =>
  [t.model, t.sigma, t.n, t.Pa, t.oracle, t.repeats, t.attack, canonical(t.attackOptions), t.budget, t.seed, t.assessSamples, t.image].join('|');

export const distortion = defineExperiment({
  name: 'distortion',
  config: DistortionConfig,
  record: DistortionRecord,
  file: 'distortion.jsonl',
  key: distortionKey,
  // Records written before the runs shared one record schema: `queries` was the total (with
  // `badQueries` beside it; no per-phase counts), and the options (none: the defaults), budget,
  // seed (1000·image + 17) and assessment samples were not recorded: they are the config's.
  upgrade: (c) => (raw) => ({
    ...raw,
    queries: typeof raw.queries === 'number' ? { total: raw.queries, bad: raw.badQueries, perPhase: {} } : raw.queries,
    attackOptions: raw.attackOptions ?? {},
    budget: raw.budget ?? c.budget,
    seed: raw.seed ?? (typeof raw.image === 'number' ? imageSeed(raw.image) : undefined),
    assessSamples: raw.assessSamples ?? c.assessSamples,
  }),
  select: (records, c) => {
    const keys = new Set(distortionTasks(c).map(distortionKey));
    return records.filter((r) => keys.has(distortionKey(r)));
  },
});
