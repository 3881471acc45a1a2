// Experiment 3 (paper Fig. 1): the probability that g_{σ,n} answers wrongly along the segment from
// an image x0 through the base model's adversarial xa (t = 1) and beyond, for several n. π0(t) is
// estimated from fresh votes; P[g_{σ,n} ≠ y] = P[Bin(n, 1 − π0) ≥ ñ] (the paper's binary model).
import { probMajorityWrong } from '@rs-arena/shared/stats';
import { lineChart, type Series } from '../report/charts.js';
import { Ticker } from '../progress.js';
import { type ExperimentContext, ResultsFile, deploymentFor } from './context.js';
import { type Figure, writeCsv, writeFigure } from './figures.js';
import { along, basePair, pi0At } from './geometry.js';

export interface DirectionConfig {
  model: string;
  sigma: number;
  images: number[];
  ns: number[];
  /** t from 0 to tMax (t = 1: the base model's adversarial). */
  tMax: number;
  steps: number;
  samples: number;
}

export interface DirectionRecord {
  key: string;
  model: string;
  sigma: number;
  image: number;
  l2: number;
  t: number[];
  pi0: number[];
}

export async function runDirection(ctx: ExperimentContext, c: DirectionConfig): Promise<DirectionRecord[]> {
  const file = new ResultsFile<DirectionRecord>(ctx.dir, 'direction.jsonl');
  const id = await deploymentFor(ctx, c.model, c.sigma, 1);
  const ticker = new Ticker('direction', c.images.length);
  for (const image of c.images) {
    const key = `${c.model}|${c.sigma}|${image}|${c.steps}|${c.tMax}`;
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
    file.add({ key, model: c.model, sigma: c.sigma, image, l2: pair.l2, t, pi0 });
    ticker.tick(`#${image}: ‖xa − x0‖ = ${pair.l2.toFixed(3)}`);
  }
  return file.all().filter((r) => r.model === c.model && r.sigma === c.sigma && c.images.includes(r.image));
}

export async function directionFigures(dir: string, records: DirectionRecord[], c: DirectionConfig): Promise<Figure[]> {
  const rows = records.flatMap((r) => r.t.map((t, i) => ({ image: r.image, t, distance: t * r.l2, pi0: r.pi0[i], ...Object.fromEntries(c.ns.map((n) => [`P_wrong_n${n}`, probMajorityWrong(1 - r.pi0[i], n)])) })));
  writeCsv(dir, 'direction.csv', rows);
  const figures: Figure[] = [];
  for (const r of records.slice(0, 3)) {
    const series: Series[] = c.ns.map((n) => ({ name: `n = ${n}`, points: r.t.map((t, i) => [t * r.l2, probMajorityWrong(1 - r.pi0[i], n)]) }));
    series.push({ name: 'base model boundary', points: [[r.l2, 0], [r.l2, 1]], dashed: true, color: '#777' });
    figures.push(
      await writeFigure(dir, `fig1-direction-${r.image}`, `Probability of being adversarial along x0 → xa (image ${r.image})`,
        `${c.model}, RS σ = ${c.sigma}: P[g_{σ,n}(x) ≠ y] along the ray from test image ${r.image} through the base model's adversarial (dashed, at L2 ${r.l2.toFixed(2)}), π0 from ${c.samples} votes per point.`,
        await lineChart({ title: `P[g(x) ≠ y] along x0 → xa, ${c.model} σ=${c.sigma}, image ${r.image}`, xLabel: 'L2 distance from x0', yLabel: 'probability of being adversarial', series, yRange: [0, 1], width: 760 })),
    );
  }
  return figures;
}
