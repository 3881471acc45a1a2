// Report section of "the query cost of confidence": per setting, median L2 against top-1 queries
// of each realistic attacker beside the shortcut's median at its budget, the share of final points
// adversarial at level P_a by fresh votes, and the findings the issue's targets ask about.
import { controlOf } from '../../attacks/controls.js';
import { type ConfidenceCostConfig, type ConfidenceCostRecord, confidenceCost, costCheckpoints } from '../../experiments/records/confidence-cost.js';
import { l2At, median } from '../../summary.js';
import { lineChart, type Series } from '../charts.js';
import { colorOf } from '../colors.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { type Finding, verdictText } from '../findings.js';
import { combined, decide, fmtPaired, fmtShare, pairOn, paired, share } from '../statistics.js';
import { defineSection } from '../section.js';
import { esc, table } from '../table.js';
import { isStale } from '../versions.js';

/**
 * An attacker as the figures and tables name it: the attack, the options it was given (but the
 * level, the experiment's), ℓ for the fixed-repeats oracle. Options go in brackets, not after a
 * space, so a variant does not take its attack's registered colour (colors.ts): two variants of
 * one attack in a figure stay apart.
 */
function attackerName(r: Pick<ConfidenceCostRecord, 'attack' | 'oracle' | 'repeats' | 'attackOptions'>): string {
  const options = Object.entries(r.attackOptions)
    .filter(([k]) => k !== 'Pa')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const name = options.length ? `${r.attack}[${options.map(([k, v]) => `${k}=${String(v)}`).join(',')}]` : r.attack;
  return r.oracle === 'repeated' ? `${name} ℓ=${r.repeats}` : r.oracle === 'shortcut' ? `${name} shortcut` : name;
}

export interface CostRow {
  model: string;
  sigma: number;
  n: number;
  attacker: string;
  oracle: string;
  budget: number;
  /** Images the smoothed classifier answers correctly at level (the attack could start). */
  attacked: number;
  /** Median over attacked images of the final L2 (∞ when nothing was returned: the median is the L2 half the images reach). */
  medianL2: number | null;
  medianL2At2000: number | null;
  medianL2At10000: number | null;
  /** Share of attacked images whose final point is adversarial at level P_a by fresh votes. */
  atLevel: number | null;
  /** Its 95% Clopper-Pearson interval. */
  atLevelLo: number | null;
  atLevelHi: number | null;
  medianProbAdversarial: number | null;
  /** medianL2 ÷ the best shortcut attack's median L2 on the same setting and n. */
  vsShortcut: number | null;
  /** Records made by other attack code than the current, or of unknown version (versions.ts). */
  stale: number;
}

const finite = (x: number | null) => (x !== null && Number.isFinite(x) ? x : null);
const medianOrInf = (v: number[]) => (v.length ? median(v) : null);

export function summarizeCost(records: ConfidenceCostRecord[], Pa: number): CostRow[] {
  const groups = new Map<string, ConfidenceCostRecord[]>();
  for (const r of records) {
    const k = `${r.model}|${r.sigma}|${r.n}|${attackerName(r)}|${r.budget}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const rows = [...groups.values()].map((rs): CostRow => {
    const attacked = rs.filter((r) => !r.misclassified);
    const final = (r: ConfidenceCostRecord) => (r.success && r.l2 !== null ? r.l2 : Infinity);
    const at = (q: number) => (q <= rs[0].budget ? finite(medianOrInf(attacked.map((r) => l2At(r, q) ?? Infinity))) : null);
    const probs = attacked.map((r) => r.assessment?.probAdversarial ?? 0);
    return {
      model: rs[0].model,
      sigma: rs[0].sigma,
      n: rs[0].n,
      attacker: attackerName(rs[0]),
      oracle: rs[0].oracle,
      budget: rs[0].budget,
      attacked: attacked.length,
      medianL2: finite(medianOrInf(attacked.map(final))),
      medianL2At2000: at(2000),
      medianL2At10000: at(10_000),
      atLevel: attacked.length ? probs.filter((p) => p >= Pa).length / attacked.length : null,
      ...(() => {
        const s = share(probs.filter((p) => p >= Pa).length, attacked.length);
        return attacked.length ? { atLevelLo: s.lo, atLevelHi: s.hi } : { atLevelLo: null, atLevelHi: null };
      })(),
      medianProbAdversarial: medianOrInf(probs),
      vsShortcut: null,
      stale: rs.filter(isStale).length,
    };
  });
  for (const r of rows) {
    const best = bestShortcut(rows, r);
    r.vsShortcut = r.oracle !== 'shortcut' && best?.medianL2 && r.medianL2 !== null ? r.medianL2 / best.medianL2 : null;
  }
  return rows;
}

/** The shortcut attack with the smallest median L2 on r's setting and n. */
export function bestShortcut(rows: CostRow[], r: Pick<CostRow, 'model' | 'sigma' | 'n'>): CostRow | undefined {
  return rows
    .filter((s) => s.oracle === 'shortcut' && s.model === r.model && s.sigma === r.sigma && s.n === r.n && s.medianL2 !== null)
    .sort((a, b) => a.medianL2! - b.medianL2!)[0];
}

/**
 * Per setting and n, the best noise-aware attacker, what the targets are about: among those run on
 * the most images (an attacker tried on 3 images is not compared with one tried on 20: 3 of 3 at
 * level says little), the most final points at level, then the smaller median L2.
 */
export function bestNoiseAware(rows: CostRow[]): CostRow[] {
  const out = new Map<string, CostRow>();
  const aware = rows.filter((r) => r.oracle === 'sequential');
  const cell = (r: CostRow) => `${r.model}|${r.sigma}|${r.n}`;
  const most = new Map<string, number>();
  for (const r of aware) most.set(cell(r), Math.max(most.get(cell(r)) ?? 0, r.attacked));
  for (const r of aware.filter((r) => r.attacked === most.get(cell(r)))) {
    const k = cell(r);
    const b = out.get(k);
    if (!b || (r.atLevel ?? 0) > (b.atLevel ?? 0) || ((r.atLevel ?? 0) === (b.atLevel ?? 0) && (r.medianL2 ?? Infinity) < (b.medianL2 ?? Infinity)))
      out.set(k, r);
  }
  return [...out.values()];
}

const settingName = (s: { model: string; sigma: number }) => `${s.model} σ=${s.sigma}`;

/** How the shortcut row of a noise-aware record's control is named (attacks/controls.ts), or undefined without one. */
function controlName(r: Pick<ConfidenceCostRecord, 'attack' | 'attackOptions'>): string | undefined {
  const c = controlOf(r.attack, r.attackOptions);
  return c && attackerName({ attack: c.attack, attackOptions: c.options, oracle: 'shortcut', repeats: 1 });
}

const finalL2 = (r: ConfidenceCostRecord) => (!r.misclassified && r.success && r.l2 !== null ? r.l2 : null);
const cellOf = (records: ConfidenceCostRecord[], row: Pick<CostRow, 'model' | 'sigma' | 'n' | 'attacker' | 'budget'>) =>
  records.filter((r) => r.model === row.model && r.sigma === row.sigma && r.n === row.n && attackerName(r) === row.attacker && r.budget === row.budget);

/**
 * The findings the query-cost experiment decides, for findings.json and the report: the project's
 * targets (not the paper's claims), each with its interval: the share of final points at level
 * (Clopper-Pearson), the L2 ratio to the shortcut and the same-algorithm control (paired on images).
 */
export function confidenceCostFindings(records: ConfidenceCostRecord[], c: ConfidenceCostConfig | undefined): Finding[] {
  if (!c || records.length === 0) return [];
  const rows = summarizeCost(records, c.Pa);
  const best = bestNoiseAware(rows).filter((b) => b.attacked > 0);
  const level = best.map((b) => {
    const attacked = cellOf(records, b).filter((r) => !r.misclassified);
    const s = share(attacked.filter((r) => (r.assessment?.probAdversarial ?? 0) >= c.Pa).length, attacked.length);
    return { b, s, verdict: decide(s, { side: 'above', bound: 0.9 }) };
  });
  const dist = best.map((b) => {
    const s = bestShortcut(rows, b);
    const pairs = s
      ? pairOn(
          cellOf(records, s),
          cellOf(records, b),
          (r) => r.image,
          (r) => (r.oracle === 'shortcut' ? finalL2(r) : (l2At(r, c.budget) ?? null)),
        )
      : [];
    const cmp = paired(pairs);
    return { b, s, cmp, verdict: cmp ? decide(cmp.ratioOfMeans, { side: 'below', bound: 1.1 }) : ('no data' as const) };
  });
  // The controls: each noise-aware attacker beside its own algorithm under the shortcut, same images.
  const controls = rows
    .filter((r) => r.oracle === 'sequential')
    .flatMap((r) => {
      const name = controlName(cellOf(records, r)[0]);
      const base = rows.find((s) => s.oracle === 'shortcut' && s.model === r.model && s.sigma === r.sigma && s.n === r.n && s.attacker === name);
      if (!base) return [];
      const cmp = paired(pairOn(cellOf(records, base), cellOf(records, r), (x) => x.image, finalL2));
      return cmp ? [{ r, base, cmp, verdict: decide(cmp.ratioOfMeans, { side: 'below', bound: 1.1 }) }] : [];
    });
  const out: Finding[] = [
    {
      id: 'confidence-at-level',
      source: 'project',
      claim: `A top-1-only attacker can return points adversarial at level P_a = ${c.Pa} by fresh votes (target: at least 90% of the final points of the best noise-aware attacker of each setting).`,
      ...combined(level.map((l) => ({ verdict: l.verdict, n: l.s.n }))),
      test: 'per setting, the share of attacked images whose final point is at level, with its Clopper-Pearson interval; established when the interval lies above 0.9',
      evidence: level.map(({ b, s }) => `${settingName(b)} n=${b.n}: ${b.attacker} ${fmtShare(s)}`).join('; ') || 'no setting with an attacked image',
    },
    {
      id: 'confidence-cost',
      source: 'project',
      claim: `The best realistic attacker's mean L2 at ${c.budget.toLocaleString('en')} top-1 queries is at most 1.1× the best shortcut attack's at ${c.shortcut.budget.toLocaleString('en')} points, on the same images.`,
      ...combined(dist.map((d) => ({ verdict: d.verdict, n: d.cmp?.images ?? 0 }))),
      test: 'per setting, the ratio of mean L2 (realistic ÷ shortcut) paired on the images both returned a point for; established when its interval lies below 1.1',
      evidence: dist
        .map(({ b, s, cmp }) => `${settingName(b)} n=${b.n}: ${b.attacker} vs ${s?.attacker ?? '–'}: ${cmp ? fmtPaired(cmp) : 'no image with both'}`)
        .join('; '),
    },
  ];
  if (controls.length) {
    out.push({
      id: 'confidence-control',
      source: 'project',
      claim:
        "Confidence costs queries, not distortion: a noise-aware attacker's mean L2 is at most 1.1× that of the same algorithm under the shortcut, on the same images.",
      ...combined(controls.map((x) => ({ verdict: x.verdict, n: x.cmp.images }))),
      test: 'per attacker and setting, the ratio of mean final L2 (noise-aware ÷ the same algorithm under the shortcut) paired on images; established when its interval lies below 1.1',
      evidence: controls
        .map(
          ({ r, base, cmp }) =>
            `${settingName(r)} n=${r.n}: ${r.attacker} (${r.budget.toLocaleString('en')} top-1 queries) vs ${base.attacker} (${base.budget.toLocaleString('en')} points): ${fmtPaired(cmp)}`,
        )
        .join('; '),
    });
  }
  return out;
}

async function confidenceCostFigures(dir: string, records: ConfidenceCostRecord[], c: ConfidenceCostConfig): Promise<Figure[]> {
  const rows = summarizeCost(records, c.Pa);
  writeCsv(dir, 'confidence-cost-summary.csv', rows as unknown as Record<string, unknown>[]);
  const checkpoints = costCheckpoints(c);
  const nMax = Math.max(...c.ns.map((x) => x.n));
  const figures: Figure[] = [];
  // The curves of every figure below as data: one row per setting, n, attacker, budget and checkpoint.
  const curves: Record<string, unknown>[] = [];
  for (const s of c.settings) {
    const series: Series[] = [];
    const counts: string[] = [];
    for (const { n } of c.ns) {
      const rs = records.filter((r) => r.model === s.model && r.sigma === s.sigma && r.n === n && !r.misclassified);
      // An attacker run at two budgets (a longer curve on a few images) is two lines: different images.
      const lines = new Map<string, ConfidenceCostRecord[]>();
      for (const r of rs) {
        const k = `${attackerName(r)}|${r.budget}`;
        lines.set(k, [...(lines.get(k) ?? []), r]);
      }
      for (const mine of lines.values()) {
        const [name, budget] = [attackerName(mine[0]), mine[0].budget];
        const shortcut = mine[0].oracle === 'shortcut';
        const label = shortcut || budget === c.budget ? name : `${name} to ${budget.toLocaleString('en')}`;
        counts.push(`${label} n=${n}: ${mine.length}`);
        // Median over attacked images of the best L2 within q queries; ∞ (no point yet) counts.
        const at = (q: number) => median(mine.map((r) => l2At(r, q) ?? Infinity)) ?? Infinity;
        for (const q of shortcut ? [budget] : checkpoints.filter((x) => x <= budget)) {
          const v = at(q);
          curves.push({
            model: s.model,
            sigma: s.sigma,
            n,
            attacker: name,
            oracle: mine[0].oracle,
            budget,
            images: mine.length,
            queries: q,
            medianL2: Number.isFinite(v) ? v : null,
          });
        }
        series.push(
          shortcut
            ? // A control or reference point: its plain algorithm's hue (the noise-aware variant's is
              // the darker one, colors.ts), whatever its options, and a marker of its own per n.
              {
                name: `${name} (${mine[0].budget.toLocaleString('en')} points) n=${n}`,
                points: [[mine[0].budget, at(mine[0].budget)]],
                scatter: true,
                color: colorOf(mine[0].attack),
                labels: [`shortcut, n = ${n}`],
              }
            : {
                name: `${label} n=${n}`,
                points: checkpoints.filter((q) => q <= mine[0].budget).map((q) => [q, at(q)]),
                dashed: n === nMax && c.ns.length > 1,
                // A longer run of an attacker: one colour, apart from the hashed colours of the variants.
                ...(label !== name ? { color: '#c51b7d' } : {}),
              },
        );
      }
    }
    if (series.length === 0) continue;
    const slug = `${s.model}-s${s.sigma}`.replace(/[^A-Za-z0-9._-]/g, '_');
    figures.push(
      await writeFigure(
        dir,
        `cost-${slug}`,
        `The query cost of confidence: ${settingName(s)}`,
        `Median L2 (over the images the smoothed classifier answers correctly) of the best point each realistic attacker holds within q top-1 queries, at level P_a = ${c.Pa}; the final point is the one its fresh sequential test confirmed. Oracles: sequential (a noise-aware attack's own test on paid top-1 answers), repeated (ℓ=k: k answers per point), shortcut (the paper's simulation over evaluator votes). Data: confidence-cost-curves.csv. Points: the paper's shortcut attacks at ${c.shortcut.budget.toLocaleString('en')} evaluator votes calls, each in its algorithm's hue (a noise-aware attacker's line is the darker one; its control is the same algorithm with the same options). A missing point: fewer than half the images had one. Images attacked per line: ${counts.join(', ')}.`,
        await lineChart({
          title: `${settingName(s)}: median L2 vs top-1 queries (P_a = ${c.Pa})`,
          xLabel: 'top-1 queries (log)',
          yLabel: 'median L2 distortion',
          series,
          xLog: true,
          width: 820,
        }),
      ),
    );
  }
  writeCsv(dir, 'confidence-cost-curves.csv', curves);
  return figures;
}

export const confidenceCostSection = defineSection({
  experiment: confidenceCost,
  title: 'The query cost of confidence',
  async build(ctx, config, records) {
    const rows = summarizeCost(records, config.Pa);
    const found = confidenceCostFindings(records, config);
    const docs = {
      attacker:
        'the attack; "shortcut": the paper’s simulation (one evaluator votes call per point); "ℓ=k": a plain attack on k paid answers per point; otherwise a noise-aware attack deciding through its sequential test',
      oracle:
        'sequential: the attack’s own sequential test on paid top-1 answers; repeated: ℓ answers per point; shortcut: ⌈n·P_a⌉ wrong micro-decisions of one votes call',
      budget: 'top-1 queries (shortcut: points) each run may spend',
      attacked: 'images the smoothed classifier answers correctly (the others need no attack)',
      medianL2: 'median over attacked images of the final L2 (an image without a final point counts as ∞)',
      medianL2At2000: 'the same for the best point held within 2,000 queries',
      medianL2At10000: 'the same within 10,000 queries',
      atLevel: `share of attacked images whose final point is adversarial at level P_a = ${config.Pa} by ${config.assessSamples.toLocaleString('en')} fresh votes (eq. 4)`,
      medianProbAdversarial: 'median eq. (4) probability of the final points (0 when none)',
      vsShortcut: 'median L2 ÷ the best shortcut attack’s on the same setting and n',
    };
    const list = found.map((f) => `<li><b>${esc(verdictText(f))}</b>: ${esc(f.claim)} <i>${esc(f.evidence)}</i></li>`).join('');
    return {
      figures: await confidenceCostFigures(ctx.dir, records, config),
      html: `<p>What a real attacker pays, in top-1 queries, to return points that are adversarial at level P_a by fresh votes, beside the paper's shortcut. Noise-aware attacks decide every point through a sequential test (Wald's SPRT, error α on the level) and confirm their final point on fresh answers.</p><ul>${list}</ul>${table(rows as unknown as Record<string, unknown>[], docs)}`,
    };
  },
});
