// Report section of the binary-search experiment (Fig. 3): the distribution of the output distance
// per n, with the base model's boundary and that of g_σ; over several images, the spread's median
// and quartiles against n.
import { type BinarySearchConfig, type BinarySearchRecord, binarySearch, binarySearchImages } from '../../experiments/records/binary-search.js';
import { quantile } from '@rs-arena/shared/stats';
import { median } from '../../summary.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { histogramChart, lineChart, type Series } from '../charts.js';

async function binarySearchFigures(dir: string, records: BinarySearchRecord[], c: BinarySearchConfig): Promise<Figure[]> {
  if (records.length === 0) return [];
  const rows = records.map((r) => {
    const s = r.outputs.slice().sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return {
      image: r.image,
      n: r.n,
      searches: s.length,
      boundary: r.boundary,
      baseBoundary: r.l2,
      median: median(s),
      q05: q(0.05),
      q95: q(0.95),
      spread90: q(0.95) - q(0.05),
      iqr: quantile(s, 0.75) - quantile(s, 0.25),
    };
  });
  writeCsv(dir, 'binary-search.csv', rows);
  // The paper's figure: the first image's distributions.
  const images = binarySearchImages(c).filter((i) => records.some((r) => r.image === i));
  const first = records.filter((r) => r.image === images[0]).sort((a, b) => a.n - b.n);
  const r0 = first[0];
  const vLines = [{ x: r0.l2, label: 'base f' }, ...(r0.boundary !== null ? [{ x: r0.boundary, label: 'g_σ' }] : [])];
  const figures = [
    await writeFigure(
      dir,
      `fig3-binary-search-${r0.image}`,
      'Distribution of a binary search output under RS',
      `${c.repeats} binary searches (tolerance ${c.tolerance} in blend factor) between test image ${r0.image} and the base model's adversarial, against ${c.model} with RS σ = ${c.sigma}; L2 distance of the output from x0. Dotted: the base model's boundary and the boundary of g_σ (π0 = ½, from votes).`,
      await histogramChart({
        title: `Binary search output, ${c.model} σ=${c.sigma}, image ${r0.image}`,
        xLabel: 'L2 distance of the output from x0',
        yLabel: 'density',
        samples: first.map((r) => ({ name: `n = ${r.n}`, values: r.outputs })),
        bins: 40,
        vLines,
        width: 760,
      }),
    ),
  ];
  if (images.length > 1) figures.push(await spreadAcrossImages(dir, rows, images.length, c));
  return figures;
}

/**
 * Fig. 3 over every image: per image and n, the interquartile range of the search's output divided
 * by that image's base boundary (a relative spread), and over the images its median and quartiles
 * against n. One image's histogram is an anecdote.
 */
async function spreadAcrossImages(
  dir: string,
  rows: { image: number; n: number; iqr: number; baseBoundary: number }[],
  count: number,
  c: BinarySearchConfig,
): Promise<Figure> {
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const at = ns.map((n) => {
    const v = rows
      .filter((r) => r.n === n)
      .map((r) => r.iqr / r.baseBoundary)
      .sort((a, b) => a - b);
    return { n, images: v.length, q25: quantile(v, 0.25), median: quantile(v, 0.5), q75: quantile(v, 0.75) };
  });
  writeCsv(dir, 'binary-search-across-images.csv', at);
  const series: Series[] = [
    { name: 'median over images', points: at.map((a) => [a.n, a.median]) },
    { name: '25th percentile', points: at.map((a) => [a.n, a.q25]), dashed: true },
    { name: '75th percentile', points: at.map((a) => [a.n, a.q75]), dashed: true },
  ];
  return writeFigure(
    dir,
    'fig3-binary-search-across-images',
    `Spread of a binary search output under RS, over ${count} images`,
    `${c.repeats} binary searches per image and n on ${count} test images, against ${c.model} with RS σ = ${c.sigma}: the interquartile range of the output's L2 distance from x0, divided by that image's base boundary; the median and the quartiles over the images.`,
    await lineChart({
      title: `Binary search spread, ${c.model} σ=${c.sigma}, ${count} images`,
      xLabel: 'n (votes per query)',
      yLabel: 'IQR of the output ÷ the base boundary',
      series,
      xLog: true,
      width: 760,
    }),
  );
}

export const binarySearchSection = defineSection({
  experiment: binarySearch,
  title: 'Binary search under RS (Fig. 3)',
  async build(ctx, config, records) {
    return { figures: await binarySearchFigures(ctx.dir, records, config), html: '' };
  },
});
