// Report section of the distortion experiment (Fig. 5 and distortion vs queries): the summary per
// setting, level, oracle and attack, and its figures.
import { type AccuracyRecord, accuracy, pCorrect, roundSigma } from '../../experiments/records/accuracy.js';
import { type DistortionConfig, type DistortionRecord, distortion } from '../../experiments/records/distortion.js';
import { type AttackStats, attackStats, l2At, mean, median } from '../../summary.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { lineChart, type Series } from '../charts.js';
import { table } from '../table.js';
import { share } from '../statistics.js';
import { isStale } from '../versions.js';

export interface DistortionRow extends AttackStats {
  model: string;
  sigma: number;
  n: number;
  Pa: number | null;
  oracle: string;
  attack: string;
  /** 95% Clopper-Pearson interval of the accuracy. */
  accuracyLo: number;
  accuracyHi: number;
  /** Images attacked (answered correctly) and broken (an adversarial returned): the L2 statistics are over the broken ones. */
  attackedImages: number;
  broken: number;
  /** Final points whose fresh eq. (4) probability reaches P_a, with its Clopper-Pearson interval. */
  assessedAtLevel: number | null;
  assessedAtLevelLo: number | null;
  assessedAtLevelHi: number | null;
  meanProbAdversarial: number | null;
  /** Records made by other attack code than the current, or of unknown version (versions.ts). */
  stale: number;
}

export function summarizeDistortion(records: DistortionRecord[]): DistortionRow[] {
  const groups = new Map<string, DistortionRecord[]>();
  for (const r of records) {
    const k = `${r.model}|${r.sigma}|${r.n}|${r.Pa}|${r.oracle}|${r.attack}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const assessed = rs.filter((r) => !r.misclassified && r.assessment).map((r) => r.assessment!);
    const { model, sigma, n, Pa, oracle, attack } = rs[0];
    const attacked = rs.filter((r) => !r.misclassified);
    const acc = share(attacked.length, rs.length);
    const level = share(assessed.filter((a) => a.probAdversarial >= (Pa ?? 0.5)).length, assessed.length);
    return {
      model,
      sigma,
      n,
      Pa,
      oracle,
      attack,
      ...attackStats(rs, (r) => r.queries.total),
      accuracyLo: acc.lo,
      accuracyHi: acc.hi,
      attackedImages: attacked.length,
      broken: attacked.filter((r) => r.success).length,
      assessedAtLevel: level.p,
      assessedAtLevelLo: assessed.length ? level.lo : null,
      assessedAtLevelHi: assessed.length ? level.hi : null,
      meanProbAdversarial: mean(assessed.map((a) => a.probAdversarial)),
      stale: rs.filter(isStale).length,
    };
  });
}

/** Which oracle each line used, said in every caption of a query curve. */
const ORACLES =
  "Oracles: plain (σ = 0: the model's top-1 answer); shortcut (the paper's simulation: a point is adversarial when ⌈n·P_a⌉ of one evaluator votes call's n micro-decisions are wrong, one query per point); repeated (the realistic attacker: ℓ paid top-1 answers per point, a query each).";
/** "on 12–50 images per point (50 in the sweep), an adversarial on 10–50": the counts behind a figure's points. */
function countsText(rows: Pick<DistortionRow, 'images' | 'attackedImages' | 'broken'>[]): string {
  if (rows.length === 0) return 'No data.';
  const range = (v: number[]) => (Math.min(...v) === Math.max(...v) ? String(v[0]) : `${Math.min(...v)}–${Math.max(...v)}`);
  return `Per point: ${range(rows.map((r) => r.images))} images, ${range(rows.map((r) => r.attackedImages))} answered correctly and attacked, an adversarial returned on ${range(rows.map((r) => r.broken))}.`;
}

const settingName = (r: { model: string; sigma: number }) => (r.sigma === 0 ? `${r.model} (no RS)` : `${r.model} σ=${r.sigma}`);

/**
 * Fig. 5's x-axis, as the paper has it: the accuracy of g_{σ,n} measured on the cell's own images
 * (accuracy experiment: mean over them of P[g_{σ,n}(x0) = y] from fresh votes), or null when those
 * votes were not measured (then the figure falls back to the share the endpoint answered correctly).
 */
export function measuredAccuracy(acc: AccuracyRecord[], row: Pick<DistortionRow, 'model' | 'sigma' | 'n'>, images: number[]): number | null {
  if (images.length === 0) return null;
  const by = new Map(acc.filter((r) => r.model === row.model && r.sigma === roundSigma(row.sigma)).map((r) => [r.image, r]));
  if (!images.every((i) => by.has(i))) return null;
  return images.reduce((s, i) => s + pCorrect(by.get(i)!, row.n), 0) / images.length;
}

async function distortionFigures(dir: string, records: DistortionRecord[], c: DistortionConfig, acc: AccuracyRecord[] = []): Promise<Figure[]> {
  const rows = summarizeDistortion(records);
  const imagesOf = (r: DistortionRow) => [
    ...new Set(
      records
        .filter((x) => x.model === r.model && x.sigma === r.sigma && x.n === r.n && x.Pa === r.Pa && x.oracle === r.oracle && x.attack === r.attack)
        .map((x) => x.image),
    ),
  ];
  const xOf = new Map(rows.map((r) => [r, measuredAccuracy(acc, r, imagesOf(r))]));
  const measured = rows.every((r) => xOf.get(r) !== null);
  writeCsv(dir, 'distortion-summary.csv', rows as unknown as Record<string, unknown>[]);
  const figures: Figure[] = [];
  // Fig. 5's x-axis, the same for every attack: from a little below the lowest accuracy drawn (to
  // the 0.05 below) to just past 1, so settings within a few points of each other stay apart.
  const xs = rows
    .filter((r) => r.oracle !== 'repeated' && r.meanL2 !== null)
    .map((r) => (measured ? xOf.get(r)! : r.accuracy))
    .filter((x): x is number => x !== null && Number.isFinite(x));
  const xLow = xs.length ? Math.max(0, Math.floor((Math.min(...xs) - 0.05) * 20) / 20) : 0;
  // Fig. 5: per attack, mean L2 (the paper's statistic) against accuracy; one series per setting and P_a (points: n).
  for (const attack of c.attacks) {
    const series: Series[] = [];
    const sel = rows.filter((r) => r.attack === attack && r.oracle !== 'repeated' && r.meanL2 !== null);
    const groups = new Map<string, DistortionRow[]>();
    for (const r of sel) {
      const k = r.sigma === 0 ? settingName(r) : `${settingName(r)} Pa=${r.Pa}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const [name, rs] of groups) {
      rs.sort((a, b) => a.n - b.n);
      series.push({
        name,
        points: rs.map((r) => [measured ? xOf.get(r)! : r.accuracy, r.meanL2!]),
        labels: rs[0].sigma === 0 ? undefined : rs.map((r) => `n=${r.n}`),
        scatter: rs.length === 1,
        dashed: name.includes('Pa=0.8'),
      });
    }
    figures.push(
      await writeFigure(
        dir,
        `fig5-${attack}`,
        `${attack.toUpperCase()}: distortion vs accuracy`,
        `Mean L2 (the paper's statistic; medians in the table) of the adversarials each point's attack returned against ${measured ? 'the accuracy of g_{σ,n} measured on the same images (mean P[g_{σ,n}(x0) = y] from fresh votes, the accuracy experiment)' : 'the share of its images the endpoint answered correctly in the run (one noisy answer each; the accuracy experiment was not run on these images)'}, ${c.budget} queries; along a line, n = ${c.ns.join(', ')}. ${countsText(sel)}`,
        await lineChart({
          title: `${attack}: mean L2 vs accuracy (points along a line: n = ${c.ns.join(', ')})`,
          xLabel: measured ? 'accuracy of g_σ,n on the attacked images (measured)' : 'accuracy on the attacked images (share answered correctly)',
          yLabel: 'mean L2 distortion',
          series,
          xRange: [xLow, 1.02],
          width: 760,
        }),
      ),
    );
  }
  // Distortion vs queries: median over images of the best L2 within q queries, for every setting,
  // n, P_a and oracle the run has (one line each), and the same curves as CSV.
  // Default checkpoints end at the budget itself, so a small budget still has a curve.
  const checkpoints = c.checkpoints ?? [...[100, 200, 300, 500, 750, 1000, 1500, 2000].filter((q) => q < c.budget), c.budget];
  const nMax = Math.max(...c.ns);
  const curve = (rs: DistortionRecord[]): [number, number][] =>
    checkpoints.map((q) => [q, median(rs.map((r) => l2At(r, q) ?? Infinity).filter(Number.isFinite)) ?? NaN]);
  const curves: Record<string, unknown>[] = [];
  for (const attack of c.attacks) {
    // The overview: one line per setting, RS at the largest n and the first P_a, shortcut oracle.
    const overview: Series[] = [];
    const counts: string[] = [];
    for (const s of c.settings) {
      const rs = records.filter(
        (r) =>
          r.attack === attack &&
          r.model === s.model &&
          r.sigma === s.sigma &&
          r.oracle !== 'repeated' &&
          (s.sigma === 0 || (r.n === nMax && r.Pa === c.Pas[0])) &&
          !r.misclassified,
      );
      if (rs.length === 0) continue;
      overview.push({ name: settingName(s), points: curve(rs) });
      counts.push(`${settingName(s)} ${rs.length}`);
    }
    figures.push(
      await writeFigure(
        dir,
        `queries-${attack}`,
        `${attack.toUpperCase()}: distortion vs queries`,
        `Median best L2 within q queries over the images the attack could start on (those with a point by q), RS at n = ${nMax}, P_a = ${c.Pas[0]}, shortcut oracle; every n, P_a and oracle in the figures per setting below. Images attacked: ${counts.join(', ') || 'none'}. ${ORACLES} Data: distortion-queries.csv.`,
        await lineChart({
          title: `${attack}: median L2 vs queries (RS n=${nMax}, Pa=${c.Pas[0]}, shortcut)`,
          xLabel: 'queries',
          yLabel: 'median L2 distortion',
          series: overview,
          width: 760,
        }),
      ),
    );
    // Per RS setting: every n, P_a and oracle that ran (one line each), beside the model without RS.
    for (const s of c.settings.filter((x) => x.sigma > 0)) {
      const lines = new Map<string, DistortionRecord[]>();
      for (const r of records) {
        if (r.attack !== attack || r.model !== s.model || r.sigma !== s.sigma || r.misclassified) continue;
        const k = `${r.n}|${r.Pa}|${r.oracle}|${r.repeats}`;
        lines.set(k, [...(lines.get(k) ?? []), r]);
      }
      if (lines.size === 0) continue;
      const series: Series[] = [];
      const plain = records.filter((r) => r.attack === attack && r.model === s.model && r.sigma === 0 && !r.misclassified);
      if (plain.length) series.push({ name: `${s.model} (no RS)`, points: curve(plain) });
      for (const rs of [...lines.values()].sort((a, b) => a[0].n - b[0].n || (a[0].Pa ?? 0) - (b[0].Pa ?? 0) || a[0].oracle.localeCompare(b[0].oracle))) {
        const { n, Pa, oracle, repeats } = rs[0];
        const points = curve(rs);
        // "n = 10 …" takes n's colour; P_a beyond the first and the repeated oracle are dashed.
        series.push({
          name: `n = ${n} Pa=${Pa} ${oracle === 'repeated' ? `repeated ℓ=${repeats}` : oracle}`,
          points,
          dashed: oracle === 'repeated' || Pa !== c.Pas[0],
        });
      }
      const slug = `${s.model}-s${s.sigma}`.replace(/[^A-Za-z0-9._-]/g, '_');
      figures.push(
        await writeFigure(
          dir,
          `queries-${attack}-${slug}`,
          `${attack.toUpperCase()} against ${settingName(s)}: distortion vs queries, every n`,
          `Median best L2 within q queries, one line per n, P_a and oracle run, beside the model without RS. ${ORACLES} Data: distortion-queries.csv.`,
          await lineChart({
            title: `${attack} vs ${settingName(s)}: median L2 vs queries`,
            xLabel: 'queries',
            yLabel: 'median L2 distortion',
            series,
            width: 760,
          }),
        ),
      );
    }
    for (const s of c.settings) {
      const groups = new Map<string, DistortionRecord[]>();
      for (const r of records.filter((x) => x.attack === attack && x.model === s.model && x.sigma === s.sigma && !x.misclassified)) {
        const k = `${r.n}|${r.Pa}|${r.oracle}|${r.repeats}`;
        groups.set(k, [...(groups.get(k) ?? []), r]);
      }
      for (const rs of groups.values()) {
        const { model, sigma, n, Pa, oracle, repeats } = rs[0];
        for (const [queries, l2] of curve(rs))
          curves.push({ attack, model, sigma, n, Pa, oracle, repeats, images: rs.length, queries, medianL2: Number.isNaN(l2) ? null : l2 });
      }
    }
  }
  writeCsv(dir, 'distortion-queries.csv', curves);
  return figures;
}

export const distortionSection = defineSection({
  experiment: distortion,
  title: 'Distortion vs accuracy (Fig. 5) and vs queries',
  async build(ctx, config, records) {
    const rows = summarizeDistortion(records);
    return {
      figures: await distortionFigures(ctx.dir, records, config, ctx.records(accuracy)),
      html: `<p>Shortcut oracle: the paper's simulation (⌈n·P_a⌉ wrong micro-decisions, evaluator votes). Repeated: the realistic attacker, ℓ paid top-1 queries per point. "at level" is the share of final points whose fresh eq. (4) probability reaches P_a.</p>${table(rows as unknown as Record<string, unknown>[])}`,
    };
  },
});
