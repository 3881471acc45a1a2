// Experiment 3 (paper Fig. 1), its data: π0 along the ray from a test image through the base
// model's adversarial.
import { z } from 'zod';
import { defineExperiment } from './experiment.js';

export const DirectionConfig = z.strictObject({
  model: z.string().min(1),
  sigma: z.number().positive(),
  images: z.array(z.number().int().nonnegative()).min(1),
  ns: z.array(z.number().int().positive()).min(1),
  /** t from 0 to tMax (t = 1: the base model's adversarial). */
  tMax: z.number().positive(),
  steps: z.number().int().positive(),
  samples: z.number().int().positive(),
});
export type DirectionConfig = z.output<typeof DirectionConfig>;

export const DirectionRecord = z.object({
  key: z.string(),
  model: z.string(),
  sigma: z.number(),
  image: z.number().int(),
  /** ‖xa − x0‖. */
  l2: z.number(),
  t: z.array(z.number()),
  pi0: z.array(z.number()),
  /** Votes per point behind each π0. */
  samples: z.number().int(),
});
export type DirectionRecord = z.output<typeof DirectionRecord>;

export const directionKey = (r: { model: string; sigma: number; image: number; steps: number; tMax: number; samples: number }) =>
  `${r.model}|${r.sigma}|${r.image}|${r.steps}|${r.tMax}|${r.samples}`;

export const direction = defineExperiment({
  name: 'direction',
  config: DirectionConfig,
  record: DirectionRecord,
  file: 'direction.jsonl',
  key: (r) => directionKey({ ...r, steps: r.t.length - 1, tMax: r.t.at(-1)! }),
  // Records written before the samples were recorded were made with the config's.
  upgrade: (c) => (raw) => ({ samples: c.samples, ...raw }),
});
