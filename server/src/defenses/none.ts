// The undefended model: one forward pass per query, its top-1 label. Its "votes" are the base
// model's label counted n times (deterministic, so one pass per input); nothing to certify.
import type { Defense, DefenseDefinition } from '../defense.js';
import { DefenseSpecError } from '../defense.js';
import { Cancelled } from '../smoothing.js';

export const none: DefenseDefinition = {
  name: 'none',
  summary: 'the base model as it is: one forward pass per query',
  create(spec, model): Defense {
    if (spec.sigma !== 0) throw new DefenseSpecError(`defense "none" adds no noise: sigma must be 0, got ${spec.sigma}`);
    const labels = async (xs: Float32Array, count: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new Cancelled(0);
      return model.predict(xs, count);
    };
    return {
      name: 'none',
      sigma: 0,
      defaultN: spec.n,
      settings: () => ({ sigma: 0, n: spec.n, rule: spec.rule }),
      predict: { cost: (count) => count, run: (xs, count, _p, call) => labels(xs, count, call?.signal) },
      votes: {
        cost: (count) => count,
        async run(xs, count, { n, stop }, call) {
          const counts = new Uint32Array(count * model.classes);
          (await labels(xs, count, call?.signal)).forEach((label, i) => (counts[i * model.classes + label] = n));
          // Deterministic: one pass decides every input.
          return stop ? { counts, passes: new Uint32Array(count).fill(1) } : { counts };
        },
      },
    };
  },
};
