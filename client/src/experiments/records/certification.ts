// Experiment 2 (paper Fig. 4), its data: Cohen et al.'s CERTIFY per model, σ and test image.
import { z } from 'zod';
import { defineExperiment } from './experiment.js';
import { Setting } from './distortion.js';

export const CertificationConfig = z.strictObject({
  settings: z.array(Setting).min(1),
  images: z.number().int().positive(),
  n0: z.number().int().positive(),
  n: z.number().int().positive(),
  alpha: z.number().gt(0).lt(1),
});
export type CertificationConfig = z.output<typeof CertificationConfig>;

export const CertificationRecord = z.object({
  key: z.string(),
  model: z.string(),
  sigma: z.number(),
  image: z.number().int(),
  label: z.number().int(),
  /** The certified class (−1: abstained). */
  certified: z.number().int(),
  correct: z.boolean(),
  pLower: z.number(),
  radius: z.number(),
});
export type CertificationRecord = z.output<typeof CertificationRecord>;

export const certificationKey = (r: { model: string; sigma: number; image: number }) => `${r.model}|${r.sigma}|${r.image}`;

export const certification = defineExperiment({
  name: 'certification',
  config: CertificationConfig,
  record: CertificationRecord,
  file: 'certification.jsonl',
  key: certificationKey,
});
