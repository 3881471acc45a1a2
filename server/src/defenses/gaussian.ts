// Gaussian randomized smoothing g_{σ,n} (Cohen et al.; the paper's defense): each query is n noisy
// copies x + σN voted by the base model, answered by the majority or Cohen's PREDICT rule. It has
// vote counts and CERTIFY. The noise is this defense's own: drawn from the deployment's stream,
// seeded (reproducible) or from the OS CSPRNG (unpredictable to clients), into the model
// scheduler's batch buffers (smoothing.ts hands the scheduler the fill).
import { z } from 'zod';
import { NoiseSource, type NoiseGenerator } from '@rs-arena/shared/noise';
import type { DeploymentSpec } from '@rs-arena/shared/api';
import { answerDefense, type CertifyOutcome, type Defense } from '../defense.js';
import { ABSTAIN, Cancelled, SmoothedClassifier, type CopyNoise, type VoteRule } from '../smoothing.js';
import type { Scheduler } from '../scheduler.js';

/** The settings of RS, shared by the defenses built on it (gated, deterministic). */
export const smoothingSettings = {
  sigma: z.number().gt(0, 'needs sigma > 0 (use defense "none" for the undefended model)').max(10),
  n: z.number().int().min(1).max(100_000).default(1),
  rule: z.enum(['majority', 'predict']).default('majority'),
  alpha: z.number().gt(0).lt(1).default(0.001),
  /** Noisy copies of one request in one onnxruntime run. */
  batchSize: z.number().int().min(1).max(4096).default(500),
};

const Settings = z.object({ ...smoothingSettings, seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }).strict();
export type GaussianSettings = z.output<typeof Settings>;

/** RS's settings from a spec's top-level fields (specs written before defenses had their own). */
export const smoothingFromSpec = (spec: DeploymentSpec) => ({
  sigma: spec.sigma,
  n: spec.n,
  rule: spec.rule,
  alpha: spec.alpha,
  batchSize: spec.batchSize,
  ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
});

export const gaussian = answerDefense({
  name: 'gaussian',
  summary: 'Gaussian randomized smoothing: majority (or PREDICT) of n noisy copies x + σN; votes and CERTIFY',
  settings: Settings,
  example: { sigma: 0.25, n: 20 },
  fromSpec: smoothingFromSpec,
  create(s, { model, scheduler }): Defense {
    const seeded = s.seed !== undefined;
    return smoothingDefense('gaussian', s, model, scheduler, seeded ? NoiseSource.seeded(s.seed!) : NoiseSource.fromCrypto(), seeded);
  },
});

/**
 * RS with a given noise: one stream for every request, or noise made for each request's inputs
 * (input-deterministic smoothing). A seeded stream is drawn in request order (reproducible); an
 * unpredictable one may be shared in any order, so the scheduler can let a small query overtake
 * another key's flood.
 */
export function smoothingDefense(
  name: string,
  s: Omit<GaussianSettings, 'seed'>,
  model: SmoothedClassifier['model'],
  scheduler: Scheduler,
  stream: NoiseGenerator | ((xs: Float32Array, count: number) => CopyNoise),
  ordered: boolean,
): Defense & { smoothed: SmoothedClassifier; rule: VoteRule } {
  const noiseOf = (xs: Float32Array, count: number) => (typeof stream === 'function' ? stream(xs, count) : stream);
  const smoothed = new SmoothedClassifier(model, s.sigma, s.batchSize, { ordered, scheduler });
  const rule: VoteRule = s.rule === 'majority' ? { rule: 'majority' } : { rule: 'predict', alpha: s.alpha };
  return {
    name,
    smoothed,
    rule,
    sigma: s.sigma,
    defaultN: s.n,
    settings: () => ({ sigma: s.sigma, n: s.n, rule: s.rule, ...(s.rule === 'predict' ? { alpha: s.alpha } : {}) }),
    predict: {
      cost: (count) => count * s.n,
      run: (xs, count, _p, call = {}) => smoothed.predict(xs, count, s.n, rule, noiseOf(xs, count), call.signal, { key: call.key }),
    },
    votes: {
      cost: (count, { n }) => count * n,
      async run(xs, count, { n, stop }, call = {}) {
        const { counts, passes } = await smoothed.tally(xs, count, n, noiseOf(xs, count), call.signal, { key: call.key, stop });
        return stop ? { counts, passes } : { counts };
      },
      spent: ({ passes }, count, { n }) => (passes ? passes.reduce((a, b) => a + b, 0) : count * n),
    },
    certify: {
      cost: (count, { n0, n }) => count * (n0 + n),
      async run(xs, count, { n0, n, alpha }, { signal, key } = {}) {
        const size = model.inputSize;
        const out: CertifyOutcome[] = [];
        for (let i = 0; i < count; i++) {
          const x = xs.subarray(i * size, (i + 1) * size);
          const c = await smoothed.certify(x, n0, n, alpha, noiseOf(x, 1), signal, { key }).catch((err) => {
            throw err instanceof Cancelled ? new Cancelled(i * (n0 + n) + err.forwardPasses) : err;
          });
          out.push({ label: c.label, abstain: c.label === ABSTAIN, nA: c.counts[c.candidate], pLower: c.pLower, radius: c.radius });
        }
        return out;
      },
    },
  };
}
