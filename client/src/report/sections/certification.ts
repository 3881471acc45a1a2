// Report section of the certification experiment (Fig. 4): certified accuracy vs radius, and the
// ratio of each attack's distortion to the certified radius of the same image (the paper: ≥ 30×).
import { eq6Bound, maxCertifiableRadius } from '@rs-arena/shared/stats';
import { type CertificationConfig, type CertificationRecord, certification } from '../../experiments/records/certification.js';
import { type DistortionRecord, distortion } from '../../experiments/records/distortion.js';
import { median } from '../../summary.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { lineChart, type Series } from '../charts.js';
import { table } from '../table.js';

export interface RatioRow {
  model: string;
  sigma: number;
  attack: string;
  n: number;
  Pa: number | null;
  images: number;
  medianRatio: number | null;
  minRatio: number | null;
  /** Eq. (6): R(x0, σ) + σΦ⁻¹(I⁻¹_Pa(ñ, ñ)), the least distance of an adversarial at level P_a (median over images). */
  medianEq6Bound: number | null;
  /** Images whose distortion is below their eq. (6) bound (then the final point is not adversarial at level P_a). */
  belowEq6: number;
}

/** Distortion ÷ certified radius per image, over images certified correctly (R > 0) and attacked successfully; and eq. (6). */
export function distortionToRadius(cert: CertificationRecord[], dist: DistortionRecord[]): RatioRow[] {
  const radius = new Map(cert.filter((r) => r.correct && r.radius > 0).map((r) => [`${r.model}|${r.sigma}|${r.image}`, r.radius]));
  const groups = new Map<string, { ratio: number; bound: number; l2: number }[]>();
  const meta = new Map<string, RatioRow>();
  for (const d of dist) {
    const R = radius.get(`${d.model}|${d.sigma}|${d.image}`);
    if (!R || !d.success || d.oracle === 'repeated') continue;
    const k = `${d.model}|${d.sigma}|${d.attack}|${d.n}|${d.Pa}`;
    const bound = eq6Bound(R, d.sigma, d.n, d.Pa ?? 0.5);
    groups.set(k, [...(groups.get(k) ?? []), { ratio: d.l2! / R, bound, l2: d.l2! }]);
    meta.set(k, {
      model: d.model,
      sigma: d.sigma,
      attack: d.attack,
      n: d.n,
      Pa: d.Pa,
      images: 0,
      medianRatio: null,
      minRatio: null,
      medianEq6Bound: null,
      belowEq6: 0,
    });
  }
  return [...groups.entries()].map(([k, rs]) => ({
    ...meta.get(k)!,
    images: rs.length,
    medianRatio: median(rs.map((r) => r.ratio)),
    minRatio: Math.min(...rs.map((r) => r.ratio)),
    medianEq6Bound: median(rs.map((r) => r.bound)),
    belowEq6: rs.filter((r) => r.l2 < r.bound).length,
  }));
}

/** Images certified per setting, from the records: "200", or "150–200" when the settings differ. */
function imagesOf(cert: CertificationRecord[], c: CertificationConfig): string {
  const counts = c.settings.map((s) => new Set(cert.filter((r) => r.model === s.model && r.sigma === s.sigma).map((r) => r.image)).size);
  const [lo, hi] = [Math.min(...counts), Math.max(...counts)];
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

async function certificationFigures(dir: string, cert: CertificationRecord[], c: CertificationConfig, dist: DistortionRecord[]): Promise<Figure[]> {
  // One row per certificate; CERTIFY's n0, n and α are the config's (in the caption).
  writeCsv(
    dir,
    'certification.csv',
    cert.map(({ n0: _n0, n: _n, alpha: _alpha, ...row }) => row),
  );
  const ratios = distortionToRadius(cert, dist);
  writeCsv(dir, 'distortion-to-radius.csv', ratios as unknown as Record<string, unknown>[]);
  const maxR = Math.max(...c.settings.map((s) => maxCertifiableRadius(s.sigma, c.n, c.alpha)));
  const radii = Array.from({ length: 101 }, (_, i) => (i / 100) * maxR * 1.05);
  const series: Series[] = c.settings.map((s) => {
    const rs = cert.filter((r) => r.model === s.model && r.sigma === s.sigma);
    return { name: `${s.model} σ=${s.sigma}`, points: radii.map((R) => [R, rs.filter((r) => r.correct && r.radius >= R).length / Math.max(1, rs.length)]) };
  });
  const figures = [
    await writeFigure(
      dir,
      'fig4-certified-accuracy',
      'Certified accuracy vs radius',
      `CERTIFY with n0 = ${c.n0}, n = ${c.n}, α = ${c.alpha} on ${imagesOf(cert, c)} test images per setting: the fraction certified correctly with radius at least R.`,
      await lineChart({
        title: `Certified accuracy (CERTIFY n=${c.n}, α=${c.alpha}, ${imagesOf(cert, c)} images)`,
        xLabel: 'radius R (L2, [0,1] pixel space)',
        yLabel: 'certified accuracy',
        series,
        yRange: [0, 1],
        width: 760,
      }),
    ),
  ];
  return figures;
}

export const certificationSection = defineSection({
  experiment: certification,
  title: 'Certification (Fig. 4) and distortion ÷ certified radius',
  async build(ctx, config, records) {
    const dist = ctx.records(distortion);
    return {
      figures: await certificationFigures(ctx.dir, records, config, dist),
      html: table(distortionToRadius(records, dist) as unknown as Record<string, unknown>[], {
        images: 'images certified correctly (R > 0) and attacked successfully',
      }),
    };
  },
});
