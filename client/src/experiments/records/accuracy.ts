// The accuracy of the smoothed classifier, its data: per model, σ and test image, the votes of
// `samples` fresh noisy copies of x0 (evaluator votes). From them the report reads
//  - the accuracy of g_σ (majority of `samples` votes) for the σ search: the σ whose smoothed
//    accuracy is `drops` points below the clean accuracy (the paper chose σ = 0.05 and 0.15 by
//    accuracy costs of 3 and 12 points; copying the pixel values to another model is not that
//    protocol), found by bisection over [0, sigmaMax], replayed from the records (sigmaSearch);
//  - the accuracy of g_{σ,n} on the attacked images, Fig. 5's x-axis: per image P[g_{σ,n}(x0) = y]
//    in the paper's binary model, 1 − P[Bin(n, 1 − π0) ≥ n/2] (probMajorityWrong), averaged.
import { probMajorityWrong } from '@rs-arena/shared/stats';
import { z } from 'zod';
import { defineExperiment } from './experiment.js';
import { Setting } from './distortion.js';

export const AccuracyConfig = z.strictObject({
  /** Models whose σ is searched by accuracy cost. */
  models: z.array(z.string().min(1)).default([]),
  /** Accuracy costs to find a σ for: 0.03 and 0.12 (the paper's σ = 0.05 and 0.15). */
  drops: z.array(z.number().gt(0).lt(1)).default([0.03, 0.12]),
  sigmaMax: z.number().positive().default(1),
  /** Bisection steps per model and drop (the σ found is within sigmaMax / 2^steps). */
  steps: z.number().int().positive().default(8),
  /** Settings whose accuracy is measured besides (the attacked settings: Fig. 5's x-axis). */
  settings: z.array(Setting).default([]),
  images: z.number().int().positive(),
  /** Fresh votes per image and σ. */
  samples: z.number().int().positive(),
});
export type AccuracyConfig = z.output<typeof AccuracyConfig>;

export const AccuracyRecord = z.object({
  key: z.string(),
  model: z.string(),
  sigma: z.number(),
  image: z.number().int(),
  label: z.number().int(),
  /** Votes per class over `samples` noisy copies (σ = 0: the clean answer, once). */
  counts: z.array(z.number().int()),
});
export type AccuracyRecord = z.output<typeof AccuracyRecord>;

/** σ on a grid of 1e-4 (bisection midpoints print and key cleanly). */
export const roundSigma = (s: number) => Math.round(s * 1e4) / 1e4;
export const accuracyKey = (r: { model: string; sigma: number; image: number; samples: number }) => `${r.model}|${r.sigma}|${r.image}|${r.samples}`;

/** The clean answer or the majority of the votes is the label (ties: lowest class, as the server). */
const majorityRight = (r: AccuracyRecord) => r.counts.indexOf(Math.max(...r.counts)) === r.label;

/** Accuracy of g_σ (majority of the recorded votes) over images 0…images−1, or null if any is missing. */
export function smoothedAccuracy(
  records: Map<string, AccuracyRecord>,
  model: string,
  sigma: number,
  c: Pick<AccuracyConfig, 'images' | 'samples'>,
): number | null {
  let right = 0;
  for (let image = 0; image < c.images; image++) {
    const r = records.get(accuracyKey({ model, sigma, image, samples: sigma === 0 ? 1 : c.samples }));
    if (!r) return null;
    if (majorityRight(r)) right++;
  }
  return right / c.images;
}

interface SigmaSearchStep {
  sigma: number;
  accuracy: number;
}
export interface SigmaSearchResult {
  model: string;
  drop: number;
  clean: number;
  /** The σ found (the last bracket's midpoint), or null while steps are missing. */
  sigma: number | null;
  /** Its bracket [lo, hi]: accuracy cost below the drop at lo, at or above it at hi. */
  bracket: [number, number];
  steps: SigmaSearchStep[];
}

/**
 * The bisection for one model and drop, replayed: each step's σ is the bracket's midpoint; `measure`
 * gives its accuracy (from records, or null when not measured yet: the search stops there and
 * `next` names the σ to measure). Deterministic, so the runner and the report agree.
 */
export function sigmaSearch(
  model: string,
  drop: number,
  c: Pick<AccuracyConfig, 'sigmaMax' | 'steps'>,
  measure: (sigma: number) => number | null,
): SigmaSearchResult & { next: number | null } {
  const clean = measure(0);
  let [lo, hi] = [0, c.sigmaMax];
  const steps: SigmaSearchStep[] = [];
  if (clean === null) return { model, drop, clean: NaN, sigma: null, bracket: [lo, hi], steps, next: 0 };
  for (let k = 0; k < c.steps; k++) {
    const mid = roundSigma((lo + hi) / 2);
    const acc = measure(mid);
    if (acc === null) return { model, drop, clean, sigma: null, bracket: [lo, hi], steps, next: mid };
    steps.push({ sigma: mid, accuracy: acc });
    if (clean - acc < drop) lo = mid;
    else hi = mid;
  }
  return { model, drop, clean, sigma: roundSigma((lo + hi) / 2), bracket: [lo, hi], steps, next: null };
}

/** Per image, P[g_{σ,n}(x0) = y] in the paper's binary model from the recorded votes (σ = 0: 1 or 0). */
export function pCorrect(r: AccuracyRecord, n: number): number {
  if (r.sigma === 0) return majorityRight(r) ? 1 : 0;
  const total = r.counts.reduce((a, b) => a + b, 0);
  return 1 - probMajorityWrong(1 - (r.counts[r.label] ?? 0) / total, n);
}

export const accuracy = defineExperiment({
  name: 'accuracy',
  config: AccuracyConfig,
  record: AccuracyRecord,
  file: 'accuracy.jsonl',
  key: (r) => accuracyKey({ ...r, samples: r.sigma === 0 ? 1 : r.counts.reduce((a, b) => a + b, 0) }),
});
