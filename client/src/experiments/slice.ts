// Experiment 4 (paper Fig. 2): a 2-D slice of input space around a test image x0, spanned by the
// direction to the base model's adversarial and a random orthogonal direction, coloured by the
// label the endpoint answers (top-1 only, client key): without RS, and with RS at several n.
// The base model's boundary is a clean curve; RS with small n turns its surroundings into noise.
import { Rng } from '@rs-arena/shared/rng';
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { type ExperimentContext, deploymentFor, resultsFile } from './context.js';
import { basePair } from './geometry.js';
import { type SliceConfig, type SliceRecord, slice, sliceKey } from './records/slice.js';

export async function runSlice(ctx: ExperimentContext, c: SliceConfig): Promise<SliceRecord[]> {
  const file = resultsFile(ctx, slice, c);
  const pair = await basePair(ctx, c.model, c.image);
  if (!pair) throw new Error(`slice: test image ${c.image} is misclassified by ${c.model}; choose another`);
  const d = pair.x0.length;
  const u = new Float32Array(d);
  for (let j = 0; j < d; j++) u[j] = (pair.xa[j] - pair.x0[j]) / pair.l2;
  // v: a random direction orthogonal to u (seeded by the image: every panel shares it).
  const v = Rng.seeded(c.image + 1).fillNormal(new Float32Array(d));
  let dot = 0;
  for (let j = 0; j < d; j++) dot += v[j] * u[j];
  let norm = 0;
  for (let j = 0; j < d; j++) norm += (v[j] -= dot * u[j]) ** 2;
  for (let j = 0; j < d; j++) v[j] /= Math.sqrt(norm);
  const half = c.extent * pair.l2;
  const G = c.grid;
  const points = new Float32Array(G * G * d);
  for (let row = 0; row < G; row++) {
    for (let col = 0; col < G; col++) {
      const a = -half + (2 * half * col) / (G - 1);
      const b = half - (2 * half * row) / (G - 1);
      const off = (row * G + col) * d;
      for (let j = 0; j < d; j++) points[off + j] = Math.min(1, Math.max(0, pair.x0[j] + a * u[j] + b * v[j]));
    }
  }
  const settings = [{ sigma: 0, n: 1 }, ...c.ns.map((n) => ({ sigma: c.sigma, n }))];
  const ticker = new Ticker('slice', settings.length);
  for (const s of settings) {
    const key = sliceKey({ model: c.model, sigma: s.sigma, n: s.n, image: c.image, grid: G, extent: c.extent });
    if (file.get(key)) {
      ticker.tick('(resumed)', true);
      continue;
    }
    const id = await deploymentFor(ctx, c.model, s.sigma, s.n);
    const http = await HttpOracle.connect({ endpoint: ctx.endpoint, key: ctx.keys.client, deployment: id });
    try {
      const labels = Array.from(await http.predict(points, G * G));
      file.add({ key, model: c.model, sigma: s.sigma, n: s.n, image: c.image, grid: G, half, l2: pair.l2, labels, trueLabel: pair.label });
    } finally {
      await http.close();
    }
    ticker.tick(s.sigma === 0 ? 'no RS' : `σ=${s.sigma} n=${s.n}`);
  }
  return file.all().filter((r) => r.model === c.model && r.image === c.image && r.grid === G);
}
