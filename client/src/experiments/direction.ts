// Experiment 3 (paper Fig. 1): the probability that g_{σ,n} answers wrongly along the segment from
// an image x0 through the base model's adversarial xa (t = 1) and beyond, for several n. π0(t) is
// estimated from fresh votes; P[g_{σ,n} ≠ y] = P[Bin(n, 1 − π0) ≥ ñ] (the paper's binary model).
import { Ticker } from '../progress.js';
import { type ExperimentContext, deploymentFor, resultsFile } from './context.js';
import { along, basePair, pi0At } from './geometry.js';
import { type DirectionConfig, type DirectionRecord, direction, directionKey } from './records/direction.js';

export async function runDirection(ctx: ExperimentContext, c: DirectionConfig): Promise<DirectionRecord[]> {
  const file = resultsFile(ctx, direction, c);
  const id = await deploymentFor(ctx, c.model, c.sigma, 1);
  const ticker = new Ticker('direction', c.images.length);
  for (const image of c.images) {
    const key = directionKey({ ...c, image });
    if (file.get(key)) {
      ticker.tick('(resumed)', true);
      continue;
    }
    const pair = await basePair(ctx, c.model, image);
    if (!pair) {
      ticker.tick(`#${image}: no base adversarial (misclassified)`);
      continue;
    }
    const t = Array.from({ length: c.steps + 1 }, (_, i) => (i / c.steps) * c.tMax);
    const size = pair.x0.length;
    const points = new Float32Array(t.length * size);
    t.forEach((ti, i) => along(pair.x0, pair.xa, ti, points.subarray(i * size, (i + 1) * size)));
    const pi0 = await pi0At(ctx, id, pair.shape, points, t.length, pair.label, c.samples);
    file.add({ key, model: c.model, sigma: c.sigma, image, l2: pair.l2, t, pi0, samples: c.samples });
    ticker.tick(`#${image}: ‖xa − x0‖ = ${pair.l2.toFixed(3)}`);
  }
  return file.all().filter((r) => r.model === c.model && r.sigma === c.sigma && c.images.includes(r.image) && r.samples === c.samples);
}
