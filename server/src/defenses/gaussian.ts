// Gaussian randomized smoothing g_{σ,n} (Cohen et al.; the paper's defense): each query is n noisy
// copies x + σN voted by the base model, answered by the majority or Cohen's PREDICT rule. It has
// vote counts and CERTIFY. The noise stream is the deployment's own: seeded (reproducible) or from
// the OS CSPRNG (unpredictable to clients).
import { NoiseSource } from '@rs-arena/shared/noise';
import type { CertifyOutcome, Defense, DefenseDefinition } from '../defense.js';
import { DefenseSpecError } from '../defense.js';
import { ABSTAIN, Cancelled, SmoothedClassifier, type VoteRule } from '../smoothing.js';

export const gaussian: DefenseDefinition = {
  name: 'gaussian',
  summary: 'Gaussian randomized smoothing: majority (or PREDICT) of n noisy copies x + σN; votes and CERTIFY',
  create(spec, model): Defense {
    if (!(spec.sigma > 0)) throw new DefenseSpecError(`defense "gaussian" needs sigma > 0 (use defense "none" for the undefended model)`);
    // A seeded stream is drawn in request order (reproducible); an unpredictable one may be shared
    // in any order, so the model's scheduler can let a small query overtake another key's flood.
    const seeded = spec.seed !== undefined;
    const smoothed = new SmoothedClassifier(model, spec.sigma, spec.batchSize, { ordered: seeded });
    const noise = seeded ? NoiseSource.seeded(spec.seed!) : NoiseSource.fromCrypto();
    const rule: VoteRule = spec.rule === 'majority' ? { rule: 'majority' } : { rule: 'predict', alpha: spec.alpha };
    return {
      name: 'gaussian',
      sigma: spec.sigma,
      defaultN: spec.n,
      settings: () => ({ sigma: spec.sigma, n: spec.n, rule: spec.rule, ...(spec.rule === 'predict' ? { alpha: spec.alpha } : {}) }),
      predict: {
        cost: (count) => count * spec.n,
        run: (xs, count, _p, call = {}) => smoothed.predict(xs, count, spec.n, rule, noise, call.signal, { key: call.key }),
      },
      votes: {
        cost: (count, { n }) => count * n,
        async run(xs, count, { n, stop }, call = {}) {
          const { counts, passes } = await smoothed.tally(xs, count, n, noise, call.signal, { key: call.key, stop });
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
            const c = await smoothed.certify(x, n0, n, alpha, noise, signal, { key }).catch((err) => {
              throw err instanceof Cancelled ? new Cancelled(i * (n0 + n) + err.forwardPasses) : err;
            });
            out.push({ label: c.label, abstain: c.label === ABSTAIN, nA: c.counts[c.candidate], pLower: c.pLower, radius: c.radius });
          }
          return out;
        },
      },
    };
  },
};
