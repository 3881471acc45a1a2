// The undefended model: one forward pass per query, its top-1 label. Its "votes" are the base
// model's label counted n times (deterministic, so one pass per input); nothing to certify.
import { z } from 'zod';
import { answerDefense, DefenseSpecError, type Defense } from '../defense.js';
import { Cancelled } from '../smoothing.js';

export const none = answerDefense({
  name: 'none',
  summary: 'the base model as it is: one forward pass per query',
  settings: z
    .object({
      /** Reported as the deployment's n (votes without n count the label n times). */
      n: z.number().int().min(1).max(100_000).default(1),
      /** Only reported (a deterministic model's one label wins under either rule). */
      rule: z.enum(['majority', 'predict']).default('majority'),
    })
    .strict(),
  example: {},
  fromSpec(spec) {
    if (spec.sigma !== 0) throw new DefenseSpecError(`defense "none" adds no noise: sigma must be 0, got ${spec.sigma}`);
    return { n: spec.n, rule: spec.rule };
  },
  create({ n: defaultN, rule }, { model }): Defense {
    const labels = async (xs: Float32Array, count: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new Cancelled(0);
      return model.predict(xs, count);
    };
    return {
      name: 'none',
      sigma: 0,
      defaultN,
      settings: () => ({ sigma: 0, n: defaultN, rule }),
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
});
