// Experiment 5 (paper Fig. 3): where a binary search between x0 and the base model's adversarial
// xa ends when the oracle is g_{σ,n} (top-1, client key): repeated many times per n, the
// distribution of the output concentrates on the boundary of g_σ only for large n; on one image
// (the paper's figure) or on several (its spread over images).
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { median } from '../summary.js';
import { type ExperimentContext, deploymentFor, pool, resultsFile } from './context.js';
import { along, basePair, firstCrossing, pi0At } from './geometry.js';
import type { ResultsFile } from '../results-file.js';
import { type BinarySearchConfig, type BinarySearchRecord, binarySearch, binarySearchImages, binarySearchKey } from './records/binary-search.js';

export async function runBinarySearch(ctx: ExperimentContext, c: BinarySearchConfig): Promise<BinarySearchRecord[]> {
  const file = resultsFile(ctx, binarySearch, c);
  const images = binarySearchImages(c);
  const done = () => file.all().filter((r) => r.model === c.model && images.includes(r.image) && c.ns.includes(r.n));
  const ticker = new Ticker('binary search', images.length * c.ns.length);
  for (const image of images) await searchImage(ctx, c, image, file, ticker);
  return done();
}

/** The searches on one image at every n (resumed per n; an image the base model misclassifies is skipped when there are others). */
async function searchImage(
  ctx: ExperimentContext,
  c: BinarySearchConfig,
  image: number,
  file: ResultsFile<typeof BinarySearchRecord>,
  ticker: Ticker,
): Promise<void> {
  const keyAt = (n: number) => binarySearchKey({ ...c, image, n });
  // Resumed whole: no boundary to compute (101 × boundarySamples passes, minutes on an ImageNet model).
  if (c.ns.every((n) => file.get(keyAt(n)))) {
    for (const n of c.ns) ticker.tick(`image ${image} n=${n} (resumed)`, true);
    return;
  }
  const pair = await basePair(ctx, c.model, image);
  if (!pair) {
    if (binarySearchImages(c).length === 1) throw new Error(`binary search: test image ${image} is misclassified by ${c.model}`);
    for (const n of c.ns) ticker.tick(`image ${image} n=${n}: misclassified by ${c.model}, skipped`, true);
    return;
  }
  // The boundary of g_σ along the segment: where π0 crosses ½, from votes on a grid of 101 points.
  const votesId = await deploymentFor(ctx, c.model, c.sigma, 1);
  const ts = Array.from({ length: 101 }, (_, i) => (i / 100) * c.tMax);
  const size = pair.x0.length;
  const grid = new Float32Array(ts.length * size);
  ts.forEach((t, i) => along(pair.x0, pair.xa, t, grid.subarray(i * size, (i + 1) * size)));
  const pi0 = await pi0At(ctx, votesId, pair.shape, grid, ts.length, pair.label, c.boundarySamples ?? 2000);
  const tCross = firstCrossing(ts, pi0, 0.5);
  const boundary = tCross === null ? null : tCross * pair.l2;
  for (const n of c.ns) {
    const key = keyAt(n);
    if (file.get(key)) {
      ticker.tick(`image ${image} n=${n} (resumed)`, true);
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
    file.add({ key, model: c.model, sigma: c.sigma, n, image, l2: pair.l2, outputs, boundary });
    ticker.tick(`image ${image} n=${n}: median output ${median(outputs)!.toFixed(3)}`);
  }
}
