// Experiment 5 (paper Fig. 3): where a binary search between x0 and the base model's adversarial
// xa ends when the oracle is g_{σ,n} (top-1, client key): repeated many times per n, the
// distribution of the output concentrates on the boundary of g_σ only for large n.
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { median } from '../summary.js';
import { type ExperimentContext, deploymentFor, pool, resultsFile } from './context.js';
import { along, basePair, firstCrossing, pi0At } from './geometry.js';
import { type BinarySearchConfig, type BinarySearchRecord, binarySearch, binarySearchKey } from './records/binary-search.js';

export async function runBinarySearch(ctx: ExperimentContext, c: BinarySearchConfig): Promise<BinarySearchRecord[]> {
  const file = resultsFile(ctx, binarySearch, c);
  const done = () => file.all().filter((r) => r.model === c.model && r.image === c.image && c.ns.includes(r.n));
  // Resumed whole: no boundary to compute (101 × boundarySamples passes, minutes on an ImageNet model).
  if (c.ns.every((n) => file.get(binarySearchKey({ ...c, n })))) {
    const ticker = new Ticker('binary search', c.ns.length);
    for (const n of c.ns) ticker.tick(`n=${n} (resumed)`, true);
    return done();
  }
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
    const key = binarySearchKey({ ...c, n });
    if (file.get(key)) {
      ticker.tick('(resumed)', true);
      continue;
    }
    const id = await deploymentFor(ctx, c.model, c.sigma, n);
    const http = await HttpOracle.connect({ endpoint: ctx.endpoint, key: ctx.keys.client, deployment: id, connections: ctx.concurrency });
    const outputs: number[] = [];
    try {
      await pool(
        Array.from({ length: c.repeats }, (_, i) => i),
        ctx.concurrency,
        async () => {
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
        },
      );
    } finally {
      await http.close();
    }
    file.add({ key, model: c.model, sigma: c.sigma, n, image: c.image, l2: pair.l2, outputs, boundary });
    ticker.tick(`n=${n}: median output ${median(outputs)!.toFixed(3)}`);
  }
  return done();
}
