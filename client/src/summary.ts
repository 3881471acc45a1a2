// Campaign summaries: per (deployment, attack), the clean accuracy the attacker saw, the success
// rate on the images it could attack, mean and median L2 of the adversarials, and queries.
import type { AttackRecord } from './record.js';
import { CUT_SHORT } from './attacks/attack.js';
import { showsRandomness } from './randomness.js';

/** What every summary reports about a group of attacked images. */
export interface AttackStats {
  images: number;
  /** Fraction of images whose original was answered correctly (not already misclassified). */
  accuracy: number;
  /** Successes ÷ correctly classified images. */
  successRate: number;
  meanL2: number | null;
  medianL2: number | null;
  meanQueries: number;
}

export interface SummaryRow extends AttackStats {
  deployment: string;
  attack: string;
  meanBadQueries: number;
  /** Images the server's budget cut short (stop reason budget-refused): not done, left out of every other column. */
  cutShort: number;
  /** Over the adversarials asked again: the share of their fresh answers that were wrong (null: none asked). */
  confirmed: number | null;
  /** Fresh answers asked per adversarial (the largest), for the note under the table. */
  freshAnswers: number;
  /** Whether the endpoint's answers are random: disclosed, detected by the fresh answers, or neither. */
  random: 'disclosed' | 'detected' | null;
  /** Queries the endpoint's detector refused (charged), images with at least one, and the median query of the first. */
  refused: number;
  refusedImages: number;
  firstRefusedMedian: number | null;
}

/** The stats of one group; `queries` reads a record's total. */
export function attackStats<R extends { misclassified: boolean; success: boolean; l2: number | null }>(rs: R[], queries: (r: R) => number): AttackStats {
  const attacked = rs.filter((r) => !r.misclassified);
  const l2 = attacked.filter((r) => r.success).map((r) => r.l2!);
  return {
    images: rs.length,
    accuracy: rs.length ? attacked.length / rs.length : 0,
    successRate: attacked.length ? l2.length / attacked.length : 0,
    meanL2: mean(l2),
    medianL2: median(l2),
    meanQueries: mean(rs.map(queries)) ?? 0,
  };
}

/**
 * The median: the middle order statistic, or the mean of the two middle ones. Found by selection
 * (Hoare's quickselect, O(n)) on a typed copy rather than by sorting: the report's bootstraps take
 * this median of each of 10,000 resamples per comparison, and sorting was most of the report's time.
 * The order statistics, so the value, are the sort's; with a NaN among the values it sorts (NaN last).
 */
export function median(values: readonly number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  const m = n >> 1;
  const s = Float64Array.from(values);
  if (s.some(Number.isNaN)) s.sort();
  else selectNth(s, m);
  if (n % 2) return s[m];
  // Below index m lie the m smallest values: the largest of them is the other middle one.
  let below = s[0];
  for (let i = 1; i < m; i++) if (s[i] > below) below = s[i];
  return (below + s[m]) / 2;
}

/** Rearranges `a` so that a[k] is its k-th smallest value, every value before it ≤ a[k], every one after ≥ a[k]. */
function selectNth(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    // Hoare partition around the middle element's value.
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and any index between j and i holds the pivot's value.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

export const mean = (values: number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

export function summarize(records: AttackRecord[]): SummaryRow[] {
  const groups = new Map<string, AttackRecord[]>();
  for (const r of records) {
    const k = `${r.deployment}\u0000${r.attack}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((all) => {
    const rs = all.filter((r) => !CUT_SHORT.includes(r.stopReason));
    const asked = rs.flatMap((r) => (r.success && r.confirmation ? [r.confirmation] : []));
    const answers = asked.reduce((s, c) => s + c.answers, 0);
    const random = all.some((r) => r.endpointRandomness === 'disclosed-random') ? 'disclosed' : asked.some((c) => showsRandomness(c)) ? 'detected' : null;
    return {
      deployment: all[0].deployment,
      attack: all[0].attack,
      ...attackStats(rs, (r) => r.queries.total),
      meanBadQueries: mean(rs.map((r) => r.queries.bad)) ?? 0,
      cutShort: all.length - rs.length,
      confirmed: answers ? asked.reduce((s, c) => s + c.adversarial, 0) / answers : null,
      freshAnswers: Math.max(0, ...asked.map((c) => c.answers)),
      random,
      refused: all.reduce((s, r) => s + (r.queries.refused ?? 0), 0),
      refusedImages: all.filter((r) => (r.queries.refused ?? 0) > 0).length,
      firstRefusedMedian: median(all.flatMap((r) => (typeof r.queries.firstRefusedAt === 'number' ? [r.queries.firstRefusedAt] : []))),
    };
  });
}

/** A plain-text table with right-aligned numbers. */
export function formatTable(headers: string[], rows: (string | number | null)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '–' : typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3);
}

/**
 * The table, and under it what its words mean where it matters: against a random endpoint
 * "success" is an answer that was wrong once, and `confirmed` how often fresh answers on those
 * points were wrong again; images cut short by the server's budget are counted apart.
 */
export function summaryTable(rows: SummaryRow[]): string {
  const table = formatTable(
    ['deployment', 'attack', 'images', 'accuracy', 'success', 'confirmed', 'mean L2', 'median L2', 'queries', 'bad q.', 'cut short'],
    rows.map((r) => [
      r.deployment,
      r.attack,
      r.images,
      pct(r.accuracy),
      pct(r.successRate),
      r.confirmed === null ? null : pct(r.confirmed),
      r.meanL2,
      r.medianL2,
      count(r.meanQueries),
      count(r.meanBadQueries),
      r.cutShort,
    ]),
  );
  const notes: string[] = [];
  const random = [...new Map(rows.filter((r) => r.random).map((r) => [r.deployment, r])).values()];
  for (const r of random) {
    notes.push(
      `${r.deployment} answers at random (${r.random === 'disclosed' ? 'it discloses a noise defense' : 'detected: the same point got different answers'}): ` +
        `"success" there means answered wrongly once, not adversarial; "confirmed" is the share of ${r.freshAnswers || 'the'} fresh answers per adversarial that were wrong again. ` +
        `For points adversarial at a confidence level, use a noise-aware attack (psj, surfree-seq, rays-seq, geoda-seq; docs/red-team.md).`,
    );
  }
  for (const r of rows.filter((r) => r.refused > 0)) {
    notes.push(
      `${r.deployment} runs a detector: it refused ${r.refused} ${r.attack} queries (charged, counted) on ${r.refusedImages} of ${r.images} images, the first at query ${r.firstRefusedMedian} (median). ` +
        `A plain attack stops at a refusal; an adaptive one blinds its queries, resamples refused ones or spreads them over keys (--blind-noise, --rejection-aware, --key …; docs/red-team.md).`,
    );
  }
  const cut = rows.reduce((s, r) => s + r.cutShort, 0);
  if (cut)
    notes.push(
      `${cut} image run(s) were cut short by the server's budget (stop reason budget-refused): not done, not in the other columns; a rerun with budget left resumes them.`,
    );
  return [table, ...notes.map((n) => `note: ${n}`)].join('\n');
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
/** Mean query counts read as counts: 90.5 → "91". */
const count = (x: number) => x.toFixed(0);

/** Best L2 reached within `queries` (from a run's history), or null if none was adversarial yet. */
export function l2At(record: Pick<AttackRecord, 'history'>, queries: number): number | null {
  let best: number | null = null;
  for (const [q, l2] of record.history) if (q <= queries && (best === null || l2 < best)) best = l2;
  return best;
}
