// Report section of the direction experiment (Fig. 1): P[g_{σ,n}(x) ≠ y] along x0 → xa for each n,
// from the π0 measured along the ray (the paper's binary model: P[Bin(n, 1 − π0) ≥ ñ]).
import { probMajorityWrong, quantile } from '@rs-arena/shared/stats';
import { type DirectionConfig, type DirectionRecord, direction } from '../../experiments/records/direction.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { lineChart, type Series } from '../charts.js';

async function directionFigures(dir: string, records: DirectionRecord[], c: DirectionConfig): Promise<Figure[]> {
  const rows = records.flatMap((r) =>
    r.t.map((t, i) => ({
      image: r.image,
      t,
      distance: t * r.l2,
      pi0: r.pi0[i],
      ...Object.fromEntries(c.ns.map((n) => [`P_wrong_n${n}`, probMajorityWrong(1 - r.pi0[i], n)])),
    })),
  );
  writeCsv(dir, 'direction.csv', rows);
  const figures: Figure[] = [];
  for (const r of records.slice(0, 3)) {
    const series: Series[] = c.ns.map((n) => ({ name: `n = ${n}`, points: r.t.map((t, i) => [t * r.l2, probMajorityWrong(1 - r.pi0[i], n)]) }));
    series.push({
      name: 'base model boundary',
      points: [
        [r.l2, 0],
        [r.l2, 1],
      ],
      dashed: true,
      color: '#777',
    });
    figures.push(
      await writeFigure(
        dir,
        `fig1-direction-${r.image}`,
        `Probability of being adversarial along x0 → xa (image ${r.image})`,
        `${c.model}, RS σ = ${c.sigma}: P[g_{σ,n}(x) ≠ y] along the ray from test image ${r.image} through the base model's adversarial (dashed, at L2 ${r.l2.toFixed(2)}), π0 from ${c.samples} votes per point.`,
        await lineChart({
          title: `P[g(x) ≠ y] along x0 → xa, ${c.model} σ=${c.sigma}, image ${r.image}`,
          xLabel: 'L2 distance from x0',
          yLabel: 'probability of being adversarial',
          series,
          yRange: [0, 1],
          width: 760,
        }),
      ),
    );
  }
  if (records.length > 1) figures.push(await acrossImages(dir, records, c));
  return figures;
}

/**
 * Fig. 1 over every image: the distance on each ray measured in units of that image's base
 * boundary (t = 1 is where the base model's answer changes), and at each t the median and the
 * quartiles over the images of P[g_{σ,n}(x) ≠ y]: one image's curve is an anecdote.
 */
async function acrossImages(dir: string, records: DirectionRecord[], c: DirectionConfig): Promise<Figure> {
  const ts = records[0].t;
  const same = records.filter((r) => r.t.length === ts.length && r.t.every((t, i) => t === ts[i]));
  const rows: Record<string, number>[] = [];
  const series: Series[] = [];
  for (const n of c.ns) {
    const at = ts.map((t, i) => {
      const p = same.map((r) => probMajorityWrong(1 - r.pi0[i], n));
      return { t, q25: quantile(p, 0.25), median: quantile(p, 0.5), q75: quantile(p, 0.75) };
    });
    for (const a of at) rows.push({ n, images: same.length, ...a });
    series.push({ name: `n = ${n}`, points: at.map((a) => [a.t, a.median]) });
    series.push({ name: `n = ${n} 25th percentile`, points: at.map((a) => [a.t, a.q25]), dashed: true });
    series.push({ name: `n = ${n} 75th percentile`, points: at.map((a) => [a.t, a.q75]), dashed: true });
  }
  series.push({
    name: 'base model boundary',
    points: [
      [1, 0],
      [1, 1],
    ],
    dashed: true,
    color: '#777',
  });
  writeCsv(dir, 'direction-across-images.csv', rows);
  return writeFigure(
    dir,
    'fig1-direction-across-images',
    `Probability of being adversarial along x0 → xa, over ${same.length} images`,
    `${c.model}, RS σ = ${c.sigma}: P[g_{σ,n}(x) ≠ y] along the ray from each of ${same.length} test images through its base model's adversarial, the distance in units of that image's base boundary (1 = where the base model's answer changes); solid: the median over the images, dashed: the 25th and 75th percentiles; π0 from ${c.samples} votes per point.`,
    await lineChart({
      title: `P[g(x) ≠ y] along x0 → xa, ${c.model} σ=${c.sigma}, ${same.length} images`,
      xLabel: 'distance from x0 ÷ the base boundary',
      yLabel: 'probability of being adversarial',
      series,
      yRange: [0, 1],
      width: 760,
    }),
  );
}

export const directionSection = defineSection({
  experiment: direction,
  title: 'Probability of being adversarial along x0 → xa (Fig. 1)',
  async build(ctx, config, records) {
    return { figures: await directionFigures(ctx.dir, records, config), html: '' };
  },
});
