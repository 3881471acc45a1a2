// Report section of "the defense menu" (records/defense-menu.ts): per defense setting and attacker,
// what a benign user pays (clean accuracy, false alarms) and what the attacker gets (success at
// L2 ≤ ε, at level P_a where the answers are random; median L2; detection; refusals; the defender's
// forward passes), a figure of clean accuracy against robustness (each defense one point per
// attacker, the best attacker per defense joined), and the findings: each comparison paired on the
// same images with a bootstrap interval, each share with its Clopper-Pearson interval.
import { quantile } from '@rs-arena/shared/stats';
import {
  type DefenseMenuConfig,
  type DefenseMenuRecord,
  type MenuAttackRecord,
  type MenuSettingRecord,
  defenseMenu,
  hasDetector,
  menuVersion,
  withoutScreens,
} from '../../experiments/records/defense-menu.js';
import { canonical } from '../../record.js';
import { median } from '../../summary.js';
import { lineChart, type Series } from '../charts.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { type Finding, verdictText } from '../findings.js';
import { type Share, type Verdict, bootstrap, decide, fmtShare, share } from '../statistics.js';
import { defineSection } from '../section.js';
import { esc, table } from '../table.js';

/**
 * The final point of a run counts at ε: found within L2 ≤ ε, and answered wrongly when asked again
 * without the detector: on at least P_a of its fresh answers where answers are random, on its one
 * answer otherwise (a point accepted on blinded queries is not always adversarial itself).
 */
export function brokenAt(r: MenuAttackRecord, epsilon: number): boolean {
  if (r.misclassified || !r.success || r.l2 === null || r.l2 > epsilon) return false;
  return r.fresh !== null && r.fresh.adversarial >= (r.random ? r.Pa : 1) * r.fresh.asked - 1e-9;
}

/** Attacked: the setting answered the clean image correctly, so there was something to attack. */
const attacked = (r: MenuAttackRecord) => !r.misclassified;

export interface MenuCell {
  defense: string;
  attacker: string;
  runs: MenuAttackRecord[];
}

/** Records grouped by (defense, attacker), in config order. */
export function menuCells(records: MenuAttackRecord[], c: Pick<DefenseMenuConfig, 'defenses' | 'attackers'>): MenuCell[] {
  return c.defenses.flatMap((d) =>
    c.attackers.map((a) => ({ defense: d.name, attacker: a.name, runs: records.filter((r) => r.defense === d.name && r.attacker === a.name) })),
  );
}

/** The name of the per-image worst case over the attackers in tables and findings. */
export const ANY_ATTACKER = 'any (per image)';

/**
 * Per image, the attackers' best run against a setting (AutoAttack's per-image minimum): the run
 * with the smallest L2 among those whose final point counts, else an attacked run, else any run.
 * Its success at ε is "some attacker broke this image within ε".
 */
function anyAttacker(cells: MenuCell[], defense: string): MenuCell {
  const byImage = new Map<number, MenuAttackRecord[]>();
  for (const cell of cells) if (cell.defense === defense) for (const r of cell.runs) byImage.set(r.image, [...(byImage.get(r.image) ?? []), r]);
  const runs = [...byImage.values()].map((rs) => {
    // An image the setting answers wrongly (in most runs that got its answer) is not attacked.
    const answered = rs.filter((r) => r.misclassified || r.cleanLabel !== null);
    const wrong = rs.filter((r) => r.misclassified);
    if (wrong.length > answered.length / 2) return wrong[0];
    const broken = rs.filter((r) => brokenAt(r, Infinity)).sort((a, b) => a.l2! - b.l2!);
    return broken[0] ?? rs.find(attacked) ?? rs[0];
  });
  return { defense, attacker: ANY_ATTACKER, runs };
}

/** Success at ε over the attacked images, with its interval. */
export const successAt = (runs: MenuAttackRecord[], epsilon: number): Share => {
  const att = runs.filter(attacked);
  return share(att.filter((r) => brokenAt(r, epsilon)).length, att.length);
};

/** Median final L2 over attacked images (∞ for an image without a point counting at level: the median is the L2 half the images reach), with its bootstrap interval. */
function medianL2(runs: MenuAttackRecord[]): { value: number; lo: number; hi: number; n: number } | null {
  const att = runs.filter(attacked);
  if (att.length === 0) return null;
  const l2 = att.map((r) => (brokenAt(r, Infinity) ? r.l2! : Infinity));
  const iv = bootstrap(l2, (s) => quantile(s as number[], 0.5));
  return { value: iv.value, lo: iv.lo, hi: iv.hi, n: att.length };
}

/** The attacker with the highest success at ε against a setting (ties: the lower median L2, then config order). */
export function bestAttacker(cells: MenuCell[], defense: string, epsilon: number): MenuCell | null {
  const mine = cells.filter((x) => x.defense === defense && x.runs.some(attacked));
  if (mine.length === 0) return null;
  const key = (x: MenuCell) => [successAt(x.runs, epsilon).p ?? 0, -(medianL2(x.runs)?.value ?? Infinity)] as const;
  return mine.reduce((best, x) => {
    const [a, b] = key(x);
    const [c, d] = key(best);
    return a > c || (a === c && b > d) ? x : best;
  });
}

/** A paired difference of 0/1 outcomes (b − a) on the images both have, with its bootstrap interval over images. */
export function pairedDifference(
  a: Map<number, number>,
  b: Map<number, number>,
): { value: number; lo: number; hi: number; images: number; clusters: number } | null {
  const pairs = [...a].filter(([image]) => b.has(image)).map(([image, va]) => ({ image, d: b.get(image)! - va }));
  if (pairs.length === 0) return null;
  const iv = bootstrap(pairs, (s) => s.reduce((t, p) => t + p.d, 0) / s.length);
  return { value: iv.value, lo: iv.lo, hi: iv.hi, images: pairs.length, clusters: iv.clusters };
}

/** Per image: 1 when the run counts at ε, over the attacked images. */
const brokenByImage = (runs: MenuAttackRecord[], epsilon: number) => new Map(runs.filter(attacked).map((r) => [r.image, brokenAt(r, epsilon) ? 1 : 0]));
/** Per accuracy image: 1 when answered correctly. */
const correctByImage = (s: MenuSettingRecord) => new Map(s.correct.map((ok, i) => [i, ok ? 1 : 0]));

const round1 = (x: number | null) => (x === null ? null : Math.round(x));
/** A share in a table cell: "7/40 (8–33%)", the interval Clopper-Pearson 95%. */
const cellShare = (s: Share) => (s.n ? `${s.k}/${s.n} (${(100 * s.lo).toFixed(0)}–${(100 * s.hi).toFixed(0)}%)` : '–');
const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '∞');
const fmtDiff = (d: { value: number; lo: number; hi: number; images: number }) =>
  `${(100 * d.value).toFixed(1)} points [${(100 * d.lo).toFixed(1)}, ${(100 * d.hi).toFixed(1)}], paired on ${d.images} images`;

/** A row of the table (`attackerName`: not a sort key of table.ts, so rows keep the config's order, setting by setting). */
export interface MenuRow extends Record<string, unknown> {
  defense: string;
  attackerName: string;
  attacked: string;
  cleanAccuracy: string;
  benignFlagged: string | null;
  [successAtEps: `success@${string}`]: string;
  medianL2: string;
  detected: string;
  medianFirstDetection: number | null;
  meanRefused: number | null;
  meanForwardPasses: number | null;
  meanQueriesIfBanned: number | null;
  sentEqualsServer: string;
  maxQueries: number | null;
  stale: number;
}

const benignOf = (s: MenuSettingRecord | undefined): Share | null => {
  if (!s?.benign) return null;
  const parts = Object.values(s.benign);
  return share(
    parts.reduce((a, p) => a + p.flagged, 0),
    parts.reduce((a, p) => a + p.queries, 0),
  );
};

/** The table: one row per setting and attacker. `current(r)`: whether a record was made by the current code. */
export function menuRows(records: DefenseMenuRecord[], c: DefenseMenuConfig, current: (r: MenuAttackRecord) => boolean = () => true): MenuRow[] {
  const attacks = records.filter((r): r is MenuAttackRecord => r.kind === 'attack');
  const settings = new Map(records.filter((r): r is MenuSettingRecord => r.kind === 'setting').map((s) => [s.defense, s]));
  const cells = menuCells(attacks, c);
  const withAny = c.defenses.flatMap((d) => [...cells.filter((x) => x.defense === d.name), anyAttacker(cells, d.name)]);
  return withAny.map((cell) => {
    const s = settings.get(cell.defense);
    const any = cell.attacker === ANY_ATTACKER;
    const acc = s ? share(s.correct.filter(Boolean).length, s.correct.length) : null;
    const benign = benignOf(s);
    const m = medianL2(cell.runs);
    const att = cell.runs.filter(attacked);
    const detected = share(att.filter((r) => r.firstDetection !== null).length, att.length);
    const firsts = cell.runs.flatMap((r) => (r.firstDetection !== null ? [r.firstDetection] : []));
    const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
    // Success first (what the table is for), then the medians and the counts; the setting's own numbers beside.
    const row = { defense: cell.defense, attackerName: cell.attacker, attacked: `${cell.runs.filter(attacked).length}/${cell.runs.length}` } as MenuRow;
    for (const e of c.epsilons) row[`success@${e}`] = cellShare(successAt(cell.runs, e));
    Object.assign(row, {
      medianL2: m ? `${f3(m.value)} (${f3(m.lo)}–${f3(m.hi)})` : '–',
      cleanAccuracy: acc ? cellShare(acc) : '–',
      benignFlagged: benign ? cellShare(benign) : null,
      detected: cellShare(detected),
      medianFirstDetection: median(firsts),
      meanRefused: round1(mean(cell.runs.map((r) => r.refused.queries))),
      meanForwardPasses: round1(mean(cell.runs.map((r) => r.server.forwardPasses))),
      meanQueriesIfBanned: round1(mean(cell.runs.map((r) => r.detection?.queriesIfBanned ?? r.server.queries))),
      sentEqualsServer: `${cell.runs.filter((r) => r.sent === r.server.queries).length}/${cell.runs.length}`,
      maxQueries: cell.runs.length ? Math.max(...cell.runs.map((r) => r.server.queries)) : null,
      stale: cell.runs.filter((r) => !current(r)).length,
    });
    // The per-image worst case is not one run: its counting columns would describe whichever run won.
    if (any)
      Object.assign(row, {
        detected: '–',
        medianFirstDetection: null,
        meanRefused: null,
        meanForwardPasses: null,
        meanQueriesIfBanned: null,
        sentEqualsServer: '–',
        maxQueries: null,
        stale: 0,
      });
    return row;
  });
}

/** The figure's points: per setting, clean accuracy (x) and 1 − success at the main ε (y) for each attacker. */
function menuPoints(records: DefenseMenuRecord[], c: DefenseMenuConfig): { defense: string; attacker: string; x: number; y: number; best: boolean }[] {
  const attacks = records.filter((r): r is MenuAttackRecord => r.kind === 'attack');
  const settings = new Map(records.filter((r): r is MenuSettingRecord => r.kind === 'setting').map((s) => [s.defense, s]));
  const cells = menuCells(attacks, c);
  return cells.flatMap((cell) => {
    const s = settings.get(cell.defense);
    const succ = successAt(cell.runs, c.epsilon);
    if (!s || succ.p === null) return [];
    const best = bestAttacker(cells, cell.defense, c.epsilon);
    return [
      {
        defense: cell.defense,
        attacker: cell.attacker,
        x: s.correct.filter(Boolean).length / s.correct.length,
        y: 1 - succ.p,
        best: best?.attacker === cell.attacker,
      },
    ];
  });
}

/** The findings: the issue's targets and, per setting, its cost and its robustness against the undefended model, paired on the same images. */
export function defenseMenuFindings(records: DefenseMenuRecord[], c: DefenseMenuConfig | undefined): Finding[] {
  if (!c) return [];
  const attacks = records.filter((r): r is MenuAttackRecord => r.kind === 'attack');
  const settings = new Map(records.filter((r): r is MenuSettingRecord => r.kind === 'setting').map((s) => [s.defense, s]));
  const cells = menuCells(attacks, c);
  const eps = c.epsilon;
  const out: Finding[] = [];
  const base = c.defenses.find((d) => d.defense.length === 1 && (typeof d.defense[0] === 'string' ? d.defense[0] : d.defense[0].name) === 'none');
  const plain = c.attackers.find((a) => a.attack === 'hsja' && !a.adaptive);
  const detectorOnly = c.defenses.find(
    (d) =>
      d.defense.some((s) => (typeof s === 'string' ? s : s.name) === 'blacklight') &&
      d.defense.every((s) => ['blacklight', 'none'].includes(typeof s === 'string' ? s : s.name)),
  );
  // 1. The detector stops vanilla HSJA.
  if (plain && detectorOnly) {
    const all = cells.find((x) => x.defense === detectorOnly.name && x.attacker === plain.name)!.runs;
    // Over the images it attacked (an image the model answers wrongly is not attacked: one query, nothing to detect).
    const runs = all.filter(attacked);
    const s = share(runs.filter((r) => r.firstDetection !== null).length, runs.length);
    const firsts = runs.flatMap((r) => (r.firstDetection !== null ? [r.firstDetection] : []));
    out.push({
      id: 'menu-detector-stops-hsja',
      source: 'project',
      claim: `Against the detector alone ("${detectorOnly.name}"), vanilla HSJA is detected on at least 90% of images within its ${c.budget.toLocaleString('en')}-query budget.`,
      verdict: decide(s, { side: 'above', bound: 0.9 }),
      n: s.n,
      test: 'share of attacked images whose run met a refusal, with its Clopper-Pearson interval; established when the interval lies above 0.9',
      evidence: `${fmtShare(s)} of the attacked images (${all.length - runs.length} of ${all.length} answered wrongly, not attacked); first detection at query ${firsts.length ? `${Math.min(...firsts)}–${Math.max(...firsts)} (median ${median(firsts)})` : '–'}`,
    });
  }
  // 2. Some adaptive attacker gets through the detector.
  if (detectorOnly) {
    const adaptive = cells.filter((x) => x.defense === detectorOnly.name && c.attackers.find((a) => a.name === x.attacker)?.adaptive);
    const best = adaptive.map((x) => ({ x, s: successAt(x.runs, eps) })).sort((a, b) => (b.s.p ?? -1) - (a.s.p ?? -1))[0];
    out.push({
      id: 'menu-adaptive-beats-detector',
      source: 'project',
      claim: `At least one adaptive attacker succeeds (L2 ≤ ${eps}) on at least 50% of the images against the detector alone, within the budget.`,
      verdict: best ? decide(best.s, { side: 'above', bound: 0.5 }) : 'no data',
      n: best?.s.n ?? 0,
      test: "the best adaptive attacker's share of attacked images broken at ε, with its Clopper-Pearson interval; established when it lies above 0.5",
      evidence:
        adaptive
          .map((x) => {
            const alone = base ? cells.find((y) => y.defense === base.name && y.attacker === x.attacker) : undefined;
            const at = c.epsilons.map((e) => `L2 ≤ ${e}: ${fmtShare(successAt(x.runs, e))}`).join(', ');
            return `${x.attacker}: ${at}, any L2: ${fmtShare(successAt(x.runs, Infinity))}${alone ? `; the same attacker on the undefended model at L2 ≤ ${eps}: ${fmtShare(successAt(alone.runs, eps))}` : ''}`;
          })
          .join('; ') || 'no adaptive attacker in the config',
    });
  }
  // 3. Counting: the attacker's wire count is the server's, and no attack exceeds its budget.
  {
    const equal = attacks.filter((r) => r.sent === r.server.queries).length;
    const within = attacks.filter((r) => r.server.queries <= r.budget && r.sent <= r.budget).length;
    out.push({
      id: 'menu-counts',
      source: 'project',
      claim:
        "Every query of every attacker is counted on both sides (the client's count of queries sent, refused ones included, equals the server's usage of its keys), and no attack exceeds its budget.",
      verdict: attacks.length === 0 ? 'no data' : equal === attacks.length && within === attacks.length ? 'established' : 'contradicted',
      n: attacks.length,
      test: 'every run: client count = server usage over all its keys, and both ≤ the budget (an exact check, no sampling)',
      evidence: `${equal} of ${attacks.length} runs with equal counts; ${within} of ${attacks.length} within the budget (largest server count ${attacks.length ? Math.max(...attacks.map((r) => r.server.queries)) : 0} of ${c.budget})`,
    });
  }
  // 4. Per setting: clean-accuracy cost and the best attacker's success, each against the undefended model, paired.
  const baseSetting = base ? settings.get(base.name) : undefined;
  const baseBest = base ? bestAttacker(cells, base.name, eps) : null;
  const rows: { name: string; cost: ReturnType<typeof pairedDifference>; gain: ReturnType<typeof pairedDifference>; best: MenuCell; s: Share }[] = [];
  for (const d of c.defenses) {
    if (d === base) continue;
    const s = settings.get(d.name);
    const best = bestAttacker(cells, d.name, eps);
    if (!best) continue;
    const cost = s && baseSetting ? pairedDifference(correctByImage(s), correctByImage(baseSetting)) : null;
    const gain = baseBest ? pairedDifference(brokenByImage(best.runs, eps), brokenByImage(baseBest.runs, eps)) : null;
    rows.push({ name: d.name, cost, gain, best, s: successAt(best.runs, eps) });
  }
  if (base && baseBest) {
    const verdict = (iv: { lo: number; hi: number; clusters: number } | null): Verdict => decide(iv, { side: 'above', bound: 0 });
    for (const r of rows) {
      out.push({
        id: `menu-${r.name}`,
        source: 'project',
        claim: `"${r.name}" lowers the best attacker's success at L2 ≤ ${eps} below the undefended model's (best attacker on each, paired on the images both attacked).`,
        verdict: verdict(r.gain),
        n: r.gain?.images ?? 0,
        test: 'paired difference (undefended − this setting) of 0/1 success per image, bootstrap interval over images; established when it excludes 0 on the side of fewer successes',
        evidence: `best attacker ${r.best.attacker}: ${fmtShare(r.s)} vs ${baseBest.attacker} on undefended ${fmtShare(successAt(baseBest.runs, eps))}; reduction ${r.gain ? fmtDiff(r.gain) : '–'}; clean-accuracy cost ${r.cost ? fmtDiff(r.cost) : '–'}; any attacker per image: ${fmtShare(successAt(anyAttacker(cells, r.name).runs, eps))} vs ${fmtShare(successAt(anyAttacker(cells, base.name).runs, eps))} undefended`,
      });
    }
    // 5. A detector in front of another setting: does the chain hold better than what it screens?
    for (const d of c.defenses) {
      if (!hasDetector(d.defense)) continue;
      const behind = c.defenses.find((x) => x !== d && canonical(x.defense) === canonical(withoutScreens(d.defense)));
      const chainBest = bestAttacker(cells, d.name, eps);
      const behindBest = behind ? bestAttacker(cells, behind.name, eps) : null;
      if (!behind || !chainBest || !behindBest || behind === base) continue;
      const iv = pairedDifference(brokenByImage(chainBest.runs, eps), brokenByImage(behindBest.runs, eps));
      out.push({
        id: `menu-chain-${d.name}`,
        source: 'project',
        claim: `The detector in front ("${d.name}") lowers the best attacker's success at L2 ≤ ${eps} below "${behind.name}" alone.`,
        verdict: verdict(iv),
        n: iv?.images ?? 0,
        test: 'paired difference (the setting alone − with the detector) of 0/1 success per image, each against its best attacker, bootstrap interval over images; established when it excludes 0 on the side of fewer successes',
        evidence: `${d.name}: ${chainBest.attacker} ${fmtShare(successAt(chainBest.runs, eps))}; ${behind.name}: ${behindBest.attacker} ${fmtShare(successAt(behindBest.runs, eps))}; difference ${iv ? fmtDiff(iv) : '–'}`,
      });
    }
    // 6. The answer the issue asks for: the setting that leaves the best attacker the least success, and at what cost.
    const ranked = rows.filter((r) => r.s.p !== null).sort((a, b) => a.s.p! - b.s.p! || (a.cost?.value ?? 0) - (b.cost?.value ?? 0));
    if (ranked.length) {
      const top = ranked[0];
      const second = ranked[1];
      const vsSecond = second ? pairedDifference(brokenByImage(top.best.runs, eps), brokenByImage(second.best.runs, eps)) : null;
      out.push({
        id: 'menu-best-defense',
        source: 'project',
        claim: `For ${c.model} at ${c.budget.toLocaleString('en')} queries, "${top.name}" leaves its best attacker the lowest success at L2 ≤ ${eps}${second ? `, lower than the next setting ("${second.name}")` : ''}.`,
        verdict: second ? verdict(vsSecond) : 'not established',
        n: vsSecond?.images ?? top.s.n,
        test: "paired difference of 0/1 success per image (next setting's best attacker − this one's), bootstrap interval over images; established when it excludes 0",
        evidence:
          `${top.name}: ${top.best.attacker} ${fmtShare(top.s)}, clean-accuracy cost ${top.cost ? fmtDiff(top.cost) : '–'}` +
          (second
            ? `; ${second.name}: ${second.best.attacker} ${fmtShare(second.s)}, cost ${second.cost ? fmtDiff(second.cost) : '–'}; difference ${vsSecond ? fmtDiff(vsSecond) : '–'}`
            : '') +
          `; ranking by best-attacker success: ${ranked.map((r) => `${r.name} ${pct(r.s.p)}`).join(', ')}`,
      });
    }
  }
  return out;
}

async function defenseMenuFigures(dir: string, records: DefenseMenuRecord[], c: DefenseMenuConfig): Promise<Figure[]> {
  const points = menuPoints(records, c);
  writeCsv(dir, 'defense-menu-points.csv', points);
  if (points.length === 0) return [];
  const attackers = c.attackers.map((a) => a.name);
  const series: Series[] = c.defenses.flatMap((d) => {
    const mine = points.filter((p) => p.defense === d.name);
    return mine.length
      ? [{ name: d.name, points: mine.map((p) => [p.x, p.y] as [number, number]), scatter: true, labels: mine.map((p) => `attacker=${p.attacker}`) }]
      : [];
  });
  const best = points.filter((p) => p.best).sort((a, b) => a.x - b.x);
  series.push({ name: 'best attacker per defense', points: best.map((p) => [p.x, p.y]), color: '#222222', dashed: true });
  const attacksOf = (name: string) => records.filter((r) => r.kind === 'attack' && r.defense === name && !r.misclassified).length;
  const imagesPerCell = c.defenses.map((d) => `${d.name} ${attacksOf(d.name)}`).join(', ');
  const accImages = records.find((r): r is MenuSettingRecord => r.kind === 'setting')?.correct.length ?? 0;
  return [
    await writeFigure(
      dir,
      'defense-menu',
      `Clean accuracy against robustness, ${c.model}, ${c.budget.toLocaleString('en')} queries`,
      `Each colour a defense setting, each shape an attacker (${attackers.join(', ')}): x the setting's clean accuracy on the first ${accImages} shipped test images (a refused query counts as wrong), y 1 − the attacker's success at L2 ≤ ${c.epsilon} on the images the setting answered correctly (answered wrongly when asked again without the detector: on at least P_a = ${c.Pa} of ${c.confirm} fresh answers where answers are random). The dashed line joins each setting's best attacker (highest success). Up and right is better for the defender. Attacked runs per setting (over all attackers): ${imagesPerCell}. Intervals are in the table; data: defense-menu-points.csv.`,
      await lineChart({
        title: `Clean accuracy vs robustness at L2 ≤ ${c.epsilon} (${c.model}, ${c.budget} queries)`,
        xLabel: 'clean accuracy',
        yLabel: `1 − attack success at L2 ≤ ${c.epsilon}`,
        series,
        width: 880,
        height: 520,
        yRange: [-0.04, 1.04],
      }),
    ),
  ];
}

export const defenseMenuSection = defineSection({
  experiment: defenseMenu,
  title: 'The defense menu: every defense against every attacker',
  async build(ctx, config, records) {
    const rows = menuRows(records, config, (r) => r.menuVersion === menuVersion(r.attack));
    writeCsv(ctx.dir, 'defense-menu-summary.csv', rows);
    const found = defenseMenuFindings(records, config);
    const docs: Record<string, string> = {
      defense: 'the defense setting (its chain in the preset)',
      attackerName: `the attacker (the attack and what it does about a detector); "${ANY_ATTACKER}": per image the attackers' best run (an image counts when any attacker broke it)`,
      attacked: "runs whose clean image the setting answered correctly (the attack's first query), of all runs (images); success is over these",
      cleanAccuracy:
        "the setting's clean accuracy on the shipped test images, one query each from a fresh key (a refused query counts as wrong), with its 95% Clopper-Pearson interval",
      benignFlagged: 'share of the benign stream (the accuracy images, then shifted by a pixel, brighter, JPEG q90) the detector refused, with its interval',
      medianL2: 'median final L2 over attacked images (∞ for an image without a final point at level), with its bootstrap 95% interval',
      detected: 'share of attacked runs that met a refusal of the detector, with its interval',
      medianFirstDetection: 'median over detected runs of the queries sent up to the first refused request',
      meanRefused: 'queries refused per run (in refused requests), on average',
      meanForwardPasses: "the server's forward passes per run, on average (the defender's cost)",
      meanQueriesIfBanned:
        "OARS's cost if every refusal got the account banned: queries plus refused queries, per run on average (it would take refused + 1 accounts)",
      sentEqualsServer: "runs whose client count of queries sent equals the server's usage of their keys",
      maxQueries: 'the largest number of queries the server charged one run (never above the budget)',
      stale: 'records made by other code than the current',
    };
    for (const e of config.epsilons)
      docs[`success@${e}`] =
        `share of attacked images with a final point at L2 ≤ ${e} answered wrongly when asked again without the detector (where answers are random: on ≥ P_a = ${config.Pa} of ${config.confirm} fresh answers), with its interval`;
    const list = found.map((f) => `<li><b>${esc(verdictText(f))}</b>: ${esc(f.claim)} <i>${esc(f.evidence)}</i></li>`).join('');
    const settingsList = config.defenses.map((d) => `<li><b>${esc(d.name)}</b>: ${esc(d.label)} <code>${esc(JSON.stringify(d.defense))}</code></li>`).join('');
    const attackersList = config.attackers
      .map(
        (a) =>
          `<li><b>${esc(a.name)}</b>: ${esc(a.attack)}${a.options ? ` ${esc(JSON.stringify(a.options))}` : ''}${a.adaptive ? `, adaptive ${esc(JSON.stringify(a.adaptive))}` : ''}</li>`,
      )
      .join('');
    return {
      figures: await defenseMenuFigures(ctx.dir, records, config),
      html:
        `<p>Every defense setting against every attacker on ${esc(config.model)}, the same ${config.images} test images and a budget of ${config.budget.toLocaleString('en')} queries per attack (refused queries included, over every key of a many-account attacker). Each run uses fresh API keys whose server-side budget is the attack's, so the server's usage of those keys is the attack's own.</p>` +
        `<p>Settings:</p><ul>${settingsList}</ul><p>Attackers:</p><ul>${attackersList}</ul><ul>${list}</ul>${table(rows, docs)}`,
    };
  },
});
