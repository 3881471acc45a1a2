// Experiment 5 (paper Fig. 3), its data: where repeated binary searches under RS end.
import { z } from 'zod';
import { defineExperiment } from './experiment.js';

export const BinarySearchConfig = z
  .strictObject({
    model: z.string().min(1),
    sigma: z.number().positive(),
    /** The test image (the paper's figure), or `images`: the same searches on each (its spread over images). */
    image: z.number().int().nonnegative().optional(),
    images: z.array(z.number().int().nonnegative()).min(1).optional(),
    ns: z.array(z.number().int().positive()).min(1),
    repeats: z.number().int().positive(),
    /** Bisection stops when the blend interval is below this. */
    tolerance: z.number().positive(),
    /** Extend the search to [0, tMax]·(xa − x0): under RS the boundary of g_σ may lie beyond t = 1. */
    tMax: z.number().positive(),
    /** Votes per grid point (101 points) to locate the boundary of g_σ; default 2,000. */
    boundarySamples: z.number().int().positive().optional(),
  })
  .refine((c) => (c.image === undefined) !== (c.images === undefined), { message: 'give exactly one of image and images' });
export type BinarySearchConfig = z.output<typeof BinarySearchConfig>;

/** The images a config searches on, in order. */
export const binarySearchImages = (c: BinarySearchConfig): number[] => c.images ?? [c.image!];

export const BinarySearchRecord = z.object({
  key: z.string(),
  model: z.string(),
  sigma: z.number(),
  n: z.number().int(),
  image: z.number().int(),
  l2: z.number(),
  /** Output distances from x0 (L2), one per repeated search. */
  outputs: z.array(z.number()),
  /** Where π0 crosses ½ along the segment (the boundary of g_σ), from votes; null if it never does. */
  boundary: z.number().nullable(),
});
export type BinarySearchRecord = z.output<typeof BinarySearchRecord>;

export const binarySearch = defineExperiment({
  name: 'binary-search',
  config: BinarySearchConfig,
  record: BinarySearchRecord,
  file: 'binary-search.jsonl',
  // Tolerance and tMax are not in the record: the key it was written under carries them.
  key: (r) => r.key,
});

export const binarySearchKey = (r: { model: string; sigma: number; n: number; image: number; repeats: number; tolerance: number; tMax: number }) =>
  `${r.model}|${r.sigma}|${r.n}|${r.image}|${r.repeats}|${r.tolerance}|${r.tMax}`;
