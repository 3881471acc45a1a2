// The base adversarials the geometry experiments (Fig. 1–3) share: HSJA (default options, seed =
// image) against the undefended model, cached in the results folder.
import { z } from 'zod';
import type { RecordSpec } from '../../results-file.js';

export const BaseAdversarial = z.object({
  key: z.string(),
  model: z.string(),
  image: z.number().int(),
  label: z.number().int(),
  l2: z.number(),
  /** The adversarial, float32 little-endian in base64. */
  adversarial: z.string(),
});
export type BaseAdversarial = z.output<typeof BaseAdversarial>;

/** The key holds the budget, which the record does not. */
export const baseAdversarialKey = (model: string, image: number, budget: number) => `${model}|${image}|${budget}`;

export const baseAdversarials: RecordSpec<typeof BaseAdversarial> & { file: string } = {
  file: 'base-adversarials.jsonl',
  schema: BaseAdversarial,
  key: (r) => r.key,
};
