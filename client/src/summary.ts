// Campaign summaries: per (deployment, attack), the clean accuracy the attacker saw, the success
// rate on the images it could attack, mean and median L2 of the adversarials, and queries.
import type { AttackRecord } from './record.js';

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

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mean = (values: number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

export function summarize(records: AttackRecord[]): SummaryRow[] {
  const groups = new Map<string, AttackRecord[]>();
  for (const r of records) {
    const k = `${r.deployment}\u0000${r.attack}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => ({
    deployment: rs[0].deployment,
    attack: rs[0].attack,
    ...attackStats(rs, (r) => r.queries.total),
    meanBadQueries: mean(rs.map((r) => r.queries.bad)) ?? 0,
  }));
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

export function summaryTable(rows: SummaryRow[]): string {
  return formatTable(
    ['deployment', 'attack', 'images', 'accuracy', 'success', 'mean L2', 'median L2', 'queries', 'bad q.'],
    rows.map((r) => [r.deployment, r.attack, r.images, pct(r.accuracy), pct(r.successRate), r.meanL2, r.medianL2, count(r.meanQueries), count(r.meanBadQueries)]),
  );
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
