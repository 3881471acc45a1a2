// The accuracy of the smoothed classifier (records/accuracy.ts): votes of `samples` fresh noisy
// copies of each test image, for the σ search by accuracy cost (bisection, replayed from the records
// so a rerun resumes mid-search) and for the attacked settings (Fig. 5's x-axis).
import { Ticker } from '../progress.js';
import { type ExperimentContext, deploymentFor, inputsFor, resultsFile } from './context.js';
import { type AccuracyConfig, type AccuracyRecord, accuracy, accuracyKey, roundSigma, sigmaSearch, smoothedAccuracy } from './records/accuracy.js';

/** Images per votes request: each costs `samples` forward passes. */
const CHUNK = 8;

export async function runAccuracy(ctx: ExperimentContext, c: AccuracyConfig): Promise<AccuracyRecord[]> {
  const file = resultsFile(ctx, accuracy, c);
  const records = new Map(file.all().map((r) => [file.keyOf(r), r]));
  const ticker = new Ticker('accuracy', c.models.length * (1 + c.drops.length * c.steps) + c.settings.length);

  async function measure(model: string, sigma: number): Promise<void> {
    const samples = sigma === 0 ? 1 : c.samples;
    const todo = Array.from({ length: c.images }, (_, i) => i).filter((image) => !records.has(accuracyKey({ model, sigma, image, samples })));
    if (todo.length) {
      const id = await deploymentFor(ctx, model, sigma, 1);
      const { shape, images } = await inputsFor(ctx, model, c.images);
      const size = shape[0] * shape[1] * shape[2];
      for (let start = 0; start < todo.length; start += CHUNK) {
        const part = todo.slice(start, start + CHUNK);
        const batch = new Float32Array(part.length * size);
        part.forEach((image, k) => batch.set(images[image].values, k * size));
        const res = await ctx.evaluator.votes(id, batch, [part.length, ...shape], samples);
        part.forEach((image, k) => {
          const r: AccuracyRecord = {
            key: accuracyKey({ model, sigma, image, samples }),
            model,
            sigma,
            image,
            label: images[image].label!,
            counts: res.counts[k],
          };
          file.add(r);
          records.set(r.key, r);
        });
      }
    }
    const acc = smoothedAccuracy(records, model, sigma, c);
    ticker.tick(`${model} σ=${sigma}: accuracy ${acc === null ? '–' : acc.toFixed(3)}${todo.length ? '' : ' (resumed)'}`, todo.length === 0);
  }

  for (const model of c.models) {
    await measure(model, 0);
    for (const drop of c.drops) {
      for (;;) {
        const r = sigmaSearch(model, drop, c, (s) => smoothedAccuracy(records, model, s, c));
        if (r.next === null) {
          ctx.log(`accuracy: ${model}, accuracy cost ${drop}: σ = ${r.sigma} (clean ${r.clean.toFixed(3)}, bracket [${r.bracket.join(', ')}])`);
          break;
        }
        await measure(model, r.next);
      }
    }
  }
  for (const s of c.settings) await measure(s.model, roundSigma(s.sigma));
  return [...records.values()];
}
