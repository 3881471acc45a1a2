// Experiment 2 (paper Fig. 4): Cohen et al.'s CERTIFY on the test images for each model and σ
// (evaluator endpoint), the certified accuracy as a function of the radius, and the ratio of each
// attack's distortion to the certified radius of the same image (the paper: at least 30×).
import { eq6Bound, maxCertifiableRadius } from '@rs-arena/shared/stats';
import { Ticker } from '../progress.js';
import { median } from '../summary.js';
import { lineChart, type Series } from '../report/charts.js';
import { type ExperimentContext, ResultsFile, deploymentFor, inputsFor } from './context.js';
import type { DistortionRecord } from './distortion.js';
import { type Figure, writeCsv, writeFigure } from './figures.js';

export interface CertificationConfig {
  settings: { model: string; sigma: number }[];
  images: number;
  n0: number;
  n: number;
  alpha: number;
}

export interface CertificationRecord {
  key: string;
  model: string;
  sigma: number;
  image: number;
  label: number;
  certified: number;
  correct: boolean;
  pLower: number;
  radius: number;
}

export async function runCertification(ctx: ExperimentContext, c: CertificationConfig): Promise<CertificationRecord[]> {
  const file = new ResultsFile<CertificationRecord>(ctx.dir, 'certification.jsonl');
  const ticker = new Ticker('certify', c.settings.length * c.images);
  for (const s of c.settings) {
    const id = await deploymentFor(ctx, s.model, s.sigma, 1);
    const { shape, images } = await inputsFor(ctx, s.model, c.images);
    const size = shape[0] * shape[1] * shape[2];
    // A few images per request: each costs n forward passes on the server.
    for (let start = 0; start < c.images; start += 4) {
      const todo = Array.from({ length: Math.min(4, c.images - start) }, (_, k) => start + k).filter((i) => !file.get(`${s.model}|${s.sigma}|${i}`));
      for (let k = todo.length; k < Math.min(4, c.images - start); k++) ticker.tick('(resumed)', true);
      if (todo.length === 0) continue;
      const batch = new Float32Array(todo.length * size);
      todo.forEach((i, k) => batch.set(images[i].values, k * size));
      const res = await ctx.evaluator.certify(id, batch, [todo.length, ...shape], { n0: c.n0, n: c.n, alpha: c.alpha });
      res.results.forEach((r, k) => {
        const image = todo[k];
        const label = images[image].label!;
        file.add({ key: `${s.model}|${s.sigma}|${image}`, model: s.model, sigma: s.sigma, image, label, certified: r.label, correct: r.label === label, pLower: r.pLower, radius: r.radius });
        ticker.tick(`${s.model} σ=${s.sigma} #${image}: ${r.abstain ? 'abstain' : `class ${r.label}, R ${r.radius.toFixed(3)}`}`);
      });
    }
  }
  return file.all().filter((r) => c.settings.some((s) => s.model === r.model && s.sigma === r.sigma) && r.image < c.images);
}

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
    meta.set(k, { model: d.model, sigma: d.sigma, attack: d.attack, n: d.n, Pa: d.Pa, images: 0, medianRatio: null, minRatio: null, medianEq6Bound: null, belowEq6: 0 });
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

export async function certificationFigures(dir: string, cert: CertificationRecord[], c: CertificationConfig, dist: DistortionRecord[]): Promise<Figure[]> {
  writeCsv(dir, 'certification.csv', cert as unknown as Record<string, unknown>[]);
  const ratios = distortionToRadius(cert, dist);
  writeCsv(dir, 'distortion-to-radius.csv', ratios as unknown as Record<string, unknown>[]);
  const maxR = Math.max(...c.settings.map((s) => maxCertifiableRadius(s.sigma, c.n, c.alpha)));
  const radii = Array.from({ length: 101 }, (_, i) => (i / 100) * maxR * 1.05);
  const series: Series[] = c.settings.map((s) => {
    const rs = cert.filter((r) => r.model === s.model && r.sigma === s.sigma);
    return { name: `${s.model} σ=${s.sigma}`, points: radii.map((R) => [R, rs.filter((r) => r.correct && r.radius >= R).length / Math.max(1, rs.length)]) };
  });
  const figures = [
    await writeFigure(dir, 'fig4-certified-accuracy', 'Certified accuracy vs radius',
      `CERTIFY with n0 = ${c.n0}, n = ${c.n}, α = ${c.alpha} on ${c.images} test images: the fraction certified correctly with radius at least R.`,
      await lineChart({ title: `Certified accuracy (CERTIFY n=${c.n}, α=${c.alpha})`, xLabel: 'radius R (L2, [0,1] pixel space)', yLabel: 'certified accuracy', series, yRange: [0, 1], width: 760 })),
  ];
  return figures;
}
