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
  n0: z.number().int(),
  n: z.number().int(),
  alpha: z.number(),
});
export type CertificationRecord = z.output<typeof CertificationRecord>;

/** Everything that changes a certificate: the deployment (model, σ; seeded noise), the image and CERTIFY's n0, n and α. */
export const certificationKey = (r: { model: string; sigma: number; image: number; n0: number; n: number; alpha: number }) =>
  `${r.model}|${r.sigma}|${r.image}|${r.n0}|${r.n}|${r.alpha}`;

export const certification = defineExperiment({
  name: 'certification',
  config: CertificationConfig,
  record: CertificationRecord,
  file: 'certification.jsonl',
  key: certificationKey,
  // Records written before n0, n and α were recorded were made with the config's.
  upgrade: (c) => (raw) => ({ n0: c.n0, n: c.n, alpha: c.alpha, ...raw }),
  select: (records, c) => records.filter((r) => r.n0 === c.n0 && r.n === c.n && r.alpha === c.alpha),
});
