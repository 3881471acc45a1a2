// Experiment 4 (paper Fig. 2), its data: the labels answered on a 2-D grid around a test image.
import { z } from 'zod';
import { defineExperiment } from './experiment.js';

export const SliceConfig = z.strictObject({
  model: z.string().min(1),
  sigma: z.number().positive(),
  image: z.number().int().nonnegative(),
  ns: z.array(z.number().int().positive()).min(1),
  /** Grid points per side. */
  grid: z.number().int().min(2),
  /** Half-width of the slice in units of ‖xa − x0‖. */
  extent: z.number().positive(),
});
export type SliceConfig = z.output<typeof SliceConfig>;

export const SliceRecord = z.object({
  key: z.string(),
  model: z.string(),
  sigma: z.number(),
  n: z.number().int(),
  image: z.number().int(),
  grid: z.number().int(),
  /** Half-width in L2 units. */
  half: z.number(),
  l2: z.number(),
  labels: z.array(z.number().int()),
  trueLabel: z.number().int(),
});
export type SliceRecord = z.output<typeof SliceRecord>;

export const sliceKey = (r: { model: string; sigma: number; n: number; image: number; grid: number; extent: number }) =>
  `${r.model}|${r.sigma}|${r.n}|${r.image}|${r.grid}|${r.extent}`;

export const slice = defineExperiment({
  name: 'slice',
  config: SliceConfig,
  record: SliceRecord,
  file: 'slice.jsonl',
  // The extent is not in the record (only half = extent·‖xa − x0‖): the key it was written under carries it.
  key: (r) => r.key,
});
