// Confidence-gated noise ("Closing the Gap", Zimmer et al., AAAI 2024; Boundary Defense): the base
// model answers a query directly when its top-1 softmax probability is at least τ; below τ, where
// the model is unsure and a decision-based attack spends its queries (near the boundary), the query
// goes through Gaussian RS (σ, n), or RND with n = 1 (Qin et al., NeurIPS 2021). Clean accuracy stays
// near the undefended model's, since most clean inputs are far from the boundary.
// RS with a model that never saw noise loses most of its accuracy at σ = 0.25 (the standard
// Fashion-MNIST CNN keeps 34%), and the inputs sent through it are the model's hardest: so the noisy
// branch may use a second, noise-trained model (`smoothingModel`, e.g. fmnist-cnn-randtrain, Cohen
// et al.'s training with Gaussian augmentation), while the deployment's own model gates and answers
// the confident queries. Both must take the same inputs and have the same classes.
import { z } from 'zod';
import { NoiseSource } from '@rs-arena/shared/noise';
import { answerDefense, DefenseSpecError, type Defense, type DefenseContext, type ScoredClassifier } from '../defense.js';
import { Cancelled } from '../smoothing.js';
import { smoothingDefense, smoothingFromSpec, smoothingSettings } from './gaussian.js';

const Settings = z
  .object({
    /** Top-1 probability from which the model answers without noise. */
    tau: z.number().gt(0).max(1).default(0.9),
    ...smoothingSettings,
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /** The served model that votes below τ (default: the deployment's own model). */
    smoothingModel: z.string().min(1).optional(),
  })
  .strict();

export const gated = answerDefense({
  name: 'gated',
  summary: 'confidence-gated noise: the model answers when its top-1 probability ≥ τ, RS (σ, n; RND at n = 1) below',
  settings: Settings,
  example: { tau: 0.9, sigma: 0.25, n: 20 },
  fromSpec: (spec) => ({ ...smoothingFromSpec(spec), tau: 0.9 }),
  async create(s, { model, scheduler, modelById }): Promise<Defense> {
    const probabilities = model.probabilities?.bind(model);
    if (!probabilities) throw new DefenseSpecError('defense "gated" needs class scores from the base model, and this one answers labels only');
    const smoother = s.smoothingModel === undefined ? { model, scheduler } : await otherModel(s.smoothingModel, model, modelById);
    const seeded = s.seed !== undefined;
    const rs = smoothingDefense('gated', s, smoother.model, smoother.scheduler, seeded ? NoiseSource.seeded(s.seed!) : NoiseSource.fromCrypto(), seeded);
    const size = model.inputSize;
    const k = model.classes;
    /** Forward passes each answer took (the gate's, plus n per query sent through RS). */
    const passes = new WeakMap<Int32Array, number>();
    return {
      ...rs,
      name: 'gated',
      // Votes and CERTIFY describe RS alone, not the gate: not offered.
      votes: undefined,
      certify: undefined,
      predict: {
        cost: (count) => count * (1 + s.n),
        spent: (labels, count) => passes.get(labels) ?? count * (1 + s.n),
        async run(xs, count, params, call = {}) {
          if (call.signal?.aborted) throw new Cancelled(0);
          const p = await probabilities(xs, count);
          const labels = new Int32Array(count);
          const unsure: number[] = [];
          for (let i = 0; i < count; i++) {
            let top = 0;
            for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + top]) top = c;
            labels[i] = top;
            if (p[i * k + top] < s.tau) unsure.push(i);
          }
          if (unsure.length > 0) {
            const sub = new Float32Array(unsure.length * size);
            unsure.forEach((i, j) => sub.set(xs.subarray(i * size, (i + 1) * size), j * size));
            const noisy = await rs.predict.run(sub, unsure.length, params, call).catch((err) => {
              throw err instanceof Cancelled ? new Cancelled(count + err.forwardPasses) : err;
            });
            unsure.forEach((i, j) => (labels[i] = noisy[j]));
          }
          passes.set(labels, count + unsure.length * s.n);
          return labels;
        },
      },
    };
  },
});

/** The noise-trained model that votes below τ: served beside the deployment's own, with the same inputs and classes. */
async function otherModel(id: string, own: ScoredClassifier, modelById: DefenseContext['modelById']) {
  if (!modelById) throw new DefenseSpecError('smoothingModel: another model can only be used by a deployment in a server');
  const other = await modelById(id);
  if (other.model.inputSize !== own.inputSize || other.model.classes !== own.classes) {
    throw new DefenseSpecError(
      `smoothingModel: "${id}" takes ${other.model.inputSize} input values and has ${other.model.classes} classes; ` +
        `the deployment's model takes ${own.inputSize} and has ${own.classes}`,
    );
  }
  return other;
}
