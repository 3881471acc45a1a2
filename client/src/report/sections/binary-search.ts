// Report section of the binary-search experiment (Fig. 3): the distribution of the output distance
// per n, with the base model's boundary and that of g_σ.
import { type BinarySearchConfig, type BinarySearchRecord, binarySearch } from '../../experiments/records/binary-search.js';
import { median } from '../../summary.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { histogramChart } from '../charts.js';

async function binarySearchFigures(dir: string, records: BinarySearchRecord[], c: BinarySearchConfig): Promise<Figure[]> {
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
    await writeFigure(
      dir,
      `fig3-binary-search-${c.image}`,
      'Distribution of a binary search output under RS',
      `${c.repeats} binary searches (tolerance ${c.tolerance} in blend factor) between test image ${c.image} and the base model's adversarial, against ${c.model} with RS σ = ${c.sigma}; L2 distance of the output from x0. Dotted: the base model's boundary and the boundary of g_σ (π0 = ½, from votes).`,
      await histogramChart({
        title: `Binary search output, ${c.model} σ=${c.sigma}, image ${c.image}`,
        xLabel: 'L2 distance of the output from x0',
        yLabel: 'density',
        samples: records.sort((a, b) => a.n - b.n).map((r) => ({ name: `n = ${r.n}`, values: r.outputs })),
        bins: 40,
        vLines,
        width: 760,
      }),
    ),
  ];
}

export const binarySearchSection = defineSection({
  experiment: binarySearch,
  title: 'Binary search under RS (Fig. 3)',
  async build(ctx, config, records) {
    return { figures: await binarySearchFigures(ctx.dir, records, config), html: '' };
  },
});
