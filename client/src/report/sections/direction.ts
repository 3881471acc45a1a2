// Report section of the direction experiment (Fig. 1): P[g_{σ,n}(x) ≠ y] along x0 → xa for each n,
// from the π0 measured along the ray (the paper's binary model: P[Bin(n, 1 − π0) ≥ ñ]).
import { probMajorityWrong } from '@rs-arena/shared/stats';
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
  return figures;
}

export const directionSection = defineSection({
  experiment: direction,
  title: 'Probability of being adversarial along x0 → xa (Fig. 1)',
  async build(ctx, config, records) {
    return { figures: await directionFigures(ctx.dir, records, config), html: '' };
  },
});
