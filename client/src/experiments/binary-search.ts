// Experiment 5 (paper Fig. 3): where a binary search between x0 and the base model's adversarial
// xa ends when the oracle is g_{σ,n} (top-1, client key): repeated many times per n, the
// distribution of the output concentrates on the boundary of g_σ only for large n.
import { histogramChart } from '../report/charts.js';
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { median } from '../summary.js';
import { type ExperimentContext, ResultsFile, deploymentFor, pool } from './context.js';
import { type Figure, writeCsv, writeFigure } from './figures.js';
import { along, basePair, firstCrossing, pi0At } from './geometry.js';

export interface BinarySearchConfig {
  model: string;
  sigma: number;
  image: number;
  ns: number[];
  repeats: number;
  /** Bisection stops when the blend interval is below this. */
  tolerance: number;
  /** Extend the search to [0, tMax]·(xa − x0): under RS the boundary of g_σ may lie beyond t = 1. */
  tMax: number;
  /** Votes per grid point (101 points) to locate the boundary of g_σ; default 2,000. */
  boundarySamples?: number;
}

export interface BinarySearchRecord {
  key: string;
  model: string;
  sigma: number;
  n: number;
  image: number;
  l2: number;
  /** Output distances from x0 (L2), one per repeated search. */
  outputs: number[];
  /** Where π0 crosses ½ along the segment (the boundary of g_σ), from votes; null if it never does. */
  boundary: number | null;
}

export async function runBinarySearch(ctx: ExperimentContext, c: BinarySearchConfig): Promise<BinarySearchRecord[]> {
  const file = new ResultsFile<BinarySearchRecord>(ctx.dir, 'binary-search.jsonl');
  const pair = await basePair(ctx, c.model, c.image);
  if (!pair) throw new Error(`binary search: test image ${c.image} is misclassified by ${c.model}`);
  // The boundary of g_σ along the segment: where π0 crosses ½, from votes on a grid of 101 points.
  const votesId = await deploymentFor(ctx, c.model, c.sigma, 1);
  const ts = Array.from({ length: 101 }, (_, i) => (i / 100) * c.tMax);
  const size = pair.x0.length;
  const grid = new Float32Array(ts.length * size);
  ts.forEach((t, i) => along(pair.x0, pair.xa, t, grid.subarray(i * size, (i + 1) * size)));
  const pi0 = await pi0At(ctx, votesId, pair.shape, grid, ts.length, pair.label, c.boundarySamples ?? 2000);
  const tCross = firstCrossing(ts, pi0, 0.5);
  const boundary = tCross === null ? null : tCross * pair.l2;
  const ticker = new Ticker('binary search', c.ns.length);
  for (const n of c.ns) {
    const key = `${c.model}|${c.sigma}|${n}|${c.image}|${c.repeats}|${c.tolerance}|${c.tMax}`;
    if (file.get(key)) {
      ticker.tick('(resumed)', true);
      continue;
    }
    const id = await deploymentFor(ctx, c.model, c.sigma, n);
    const http = await HttpOracle.connect({ endpoint: ctx.endpoint, key: ctx.keys.client, deployment: id, connections: ctx.concurrency });
    const outputs: number[] = [];
    try {
      await pool(Array.from({ length: c.repeats }, (_, i) => i), ctx.concurrency, async () => {
        // The search assumes x0 is not adversarial and x(tMax) is; it keeps the adversarial end.
        let lo = 0;
        let hi = c.tMax;
        const x = new Float32Array(size);
        while (hi - lo > c.tolerance) {
          const mid = (lo + hi) / 2;
          const [label] = await http.predict(along(pair.x0, pair.xa, mid, x), 1);
          if (label !== pair.label) hi = mid;
          else lo = mid;
        }
        outputs.push(hi * pair.l2);
      });
    } finally {
      await http.close();
    }
    file.add({ key, model: c.model, sigma: c.sigma, n, image: c.image, l2: pair.l2, outputs, boundary });
    ticker.tick(`n=${n}: median output ${median(outputs)!.toFixed(3)}`);
  }
  return file.all().filter((r) => r.model === c.model && r.image === c.image && c.ns.includes(r.n));
}

export async function binarySearchFigures(dir: string, records: BinarySearchRecord[], c: BinarySearchConfig): Promise<Figure[]> {
  if (records.length === 0) return [];
  const rows = records.map((r) => {
    const s = r.outputs.slice().sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { n: r.n, searches: s.length, boundary: r.boundary, baseBoundary: r.l2, median: median(s), q05: q(0.05), q95: q(0.95), spread90: q(0.95) - q(0.05) };
  });
  writeCsv(dir, 'binary-search.csv', rows);
  const r0 = records[0];
  const vLines = [{ x: r0.l2, label: 'base f' }, ...(r0.boundary !== null ? [{ x: r0.boundary, label: 'g_σ' }] : [])];
  return [
    await writeFigure(dir, `fig3-binary-search-${c.image}`, 'Distribution of a binary search output under RS',
      `${c.repeats} binary searches (tolerance ${c.tolerance} in blend factor) between test image ${c.image} and the base model's adversarial, against ${c.model} with RS σ = ${c.sigma}; L2 distance of the output from x0. Dotted: the base model's boundary and the boundary of g_σ (π0 = ½, from votes).`,
      await histogramChart({ title: `Binary search output, ${c.model} σ=${c.sigma}, image ${c.image}`, xLabel: 'L2 distance of the output from x0', yLabel: 'density', samples: records.sort((a, b) => a.n - b.n).map((r) => ({ name: `n = ${r.n}`, values: r.outputs })), bins: 40, vLines, width: 760 })),
  ];
}
