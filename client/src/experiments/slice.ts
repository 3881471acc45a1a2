// Experiment 4 (paper Fig. 2): a 2-D slice of input space around a test image x0, spanned by the
// direction to the base model's adversarial and a random orthogonal direction, coloured by the
// label the endpoint answers (top-1 only, client key): without RS, and with RS at several n.
// The base model's boundary is a clean curve; RS with small n turns its surroundings into noise.
import { Rng } from '@rs-arena/shared/rng';
import { HttpOracle } from '../oracle-http.js';
import { labelMapChart } from '../report/charts.js';
import { Ticker } from '../progress.js';
import { type ExperimentContext, ResultsFile, deploymentFor } from './context.js';
import { type Figure, writeFigure } from './figures.js';
import { basePair } from './geometry.js';

export interface SliceConfig {
  model: string;
  sigma: number;
  image: number;
  ns: number[];
  /** Grid points per side. */
  grid: number;
  /** Half-width of the slice in units of ‖xa − x0‖. */
  extent: number;
}

export interface SliceRecord {
  key: string;
  model: string;
  sigma: number;
  n: number;
  image: number;
  grid: number;
  /** Half-width in L2 units. */
  half: number;
  l2: number;
  labels: number[];
  trueLabel: number;
}

export async function runSlice(ctx: ExperimentContext, c: SliceConfig): Promise<SliceRecord[]> {
  const file = new ResultsFile<SliceRecord>(ctx.dir, 'slice.jsonl');
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
    const key = `${c.model}|${s.sigma}|${s.n}|${c.image}|${G}|${c.extent}`;
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

export async function sliceFigures(dir: string, records: SliceRecord[], c: SliceConfig, classNames: string[]): Promise<Figure[]> {
  if (records.length === 0) return [];
  const panels = records.slice().sort((a, b) => a.sigma - b.sigma || a.n - b.n);
  const G = c.grid;
  // x0 at the centre; xa on the horizontal axis, ‖xa − x0‖ / half of the half-width to the right.
  const markers = (p: SliceRecord) => [{ x: G / 2, y: G / 2, hollow: true }, { x: G / 2 + (p.l2 / p.half) * (G / 2), y: G / 2 }];
  const svg = await labelMapChart({
    title: `Labels answered around test image ${c.image}, ${c.model}`,
    subtitle: `○ x0   ● base adversarial xa   half-width ${panels[0].half.toFixed(2)} (L2)`,
    panels: panels.map((p) => ({ title: p.sigma === 0 ? 'no RS' : `RS σ=${p.sigma}, n=${p.n}`, grid: G, cells: p.labels, markers: markers(p) })),
    className: (l) => `${l} ${classNames[l] ?? ''}${l === panels[0].trueLabel ? ' (true)' : ''}`,
    size: Math.max(3, Math.floor(240 / G)) * G,
  });
  return [
    await writeFigure(dir, `fig2-slice-${c.image}`, `A 2-D slice around test image ${c.image}`,
      `Labels answered on a ${c.grid}×${c.grid} grid in the plane of x0, the base model's adversarial direction (horizontal) and a random orthogonal direction (vertical); ${c.model}, without RS and with RS σ = ${c.sigma}.`,
      svg),
  ];
}
