// The report's tables: readable headers, a definition of each column under the table, rows sorted
// by setting, attack, n, P_a. Used by the report sections and the page (html.ts).
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Cell = unknown;

/** How a column is shown: its header, the line defining it under the table, and its number format. */
export interface Column {
  label: string;
  doc: string;
  format?: (v: number) => string;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const plain = (v: number) => String(v);

/** Every column the report's tables show, by the row field that holds it. */
export const COLUMNS: Readonly<Record<string, Column>> = {
  model: { label: 'model', doc: 'the base classifier the endpoint serves' },
  sigma: { label: 'σ', doc: 'noise level of randomized smoothing (0: no RS)', format: plain },
  n: { label: 'n', doc: 'noise samples per answer of the smoothed classifier', format: plain },
  Pa: { label: 'P_a', doc: 'confidence level an adversarial must reach (eq. 4); – without RS', format: plain },
  oracle: {
    label: 'oracle',
    doc: 'plain: the top-1 endpoint; shortcut: the paper’s simulation (⌈n·P_a⌉ wrong micro-decisions); repeated: ℓ paid top-1 queries per point',
  },
  attack: { label: 'attack', doc: 'the decision-based attack' },
  images: { label: 'images', doc: 'test images attacked' },
  accuracy: { label: 'accuracy', doc: 'share of the images the endpoint answers correctly (the others need no attack)', format: pct },
  successRate: { label: 'success', doc: 'adversarials found ÷ images answered correctly', format: pct },
  meanL2: { label: 'mean L2', doc: 'mean L2 distortion of the adversarials found ([0,1] pixel space)' },
  medianL2: { label: 'median L2', doc: 'median L2 distortion of the adversarials found' },
  meanQueries: { label: 'mean queries', doc: 'queries spent per image, on average', format: (v) => v.toFixed(0) },
  assessedAtLevel: { label: 'at level', doc: 'share of final points whose fresh eq. (4) probability of being adversarial reaches P_a', format: pct },
  meanProbAdversarial: { label: 'mean P(adv)', doc: 'mean eq. (4) probability of being adversarial of the final points, from fresh votes' },
  medianRatio: { label: 'median L2 ÷ R', doc: 'median over images of the distortion ÷ the certified radius R of the same image' },
  minRatio: { label: 'min L2 ÷ R', doc: 'smallest distortion ÷ certified radius' },
  medianEq6Bound: { label: 'eq. (6) bound', doc: 'median least distance of an adversarial at level P_a, R + σΦ⁻¹(I⁻¹_Pa(ñ, ñ)) (eq. 6)' },
  attacker: { label: 'attacker', doc: 'the attack and how it decides' },
  budget: { label: 'budget', doc: 'queries each run may spend' },
  attacked: { label: 'attacked', doc: 'images answered correctly (attacked)' },
  medianL2At2000: { label: 'median L2 @2k', doc: 'median L2 of the best point within 2,000 queries' },
  medianL2At10000: { label: 'median L2 @10k', doc: 'median L2 of the best point within 10,000 queries' },
  atLevelLo: { label: 'at level ≥', doc: 'lower end of the 95% Clopper-Pearson interval of the share at level', format: pct },
  atLevelHi: { label: 'at level ≤', doc: 'upper end of that interval', format: pct },
  accuracyLo: { label: 'accuracy ≥', doc: 'lower end of the 95% Clopper-Pearson interval of the accuracy', format: pct },
  accuracyHi: { label: 'accuracy ≤', doc: 'upper end of that interval', format: pct },
  attackedImages: { label: 'attacked', doc: 'images the endpoint answers correctly (attacked)' },
  broken: { label: 'broken', doc: 'attacked images for which the attack returned an adversarial (the L2 columns are over these)' },
  assessedAtLevelLo: { label: 'at level ≥', doc: 'lower end of the 95% Clopper-Pearson interval of "at level"', format: pct },
  assessedAtLevelHi: { label: 'at level ≤', doc: 'upper end of that interval', format: pct },
  stale: { label: 'stale', doc: 'records made by attack code other than the current (or of unknown version): rerun replaces them' },
  atLevel: { label: 'at level', doc: 'share of final points adversarial at level P_a by fresh votes', format: pct },
  medianProbAdversarial: { label: 'median P(adv)', doc: 'median eq. (4) probability of the final points' },
  vsShortcut: { label: '÷ shortcut', doc: 'median L2 ÷ the best shortcut attack’s' },
  // The defense menu's table (report/sections/defense-menu.ts).
  defense: { label: 'defense', doc: 'the defense setting' },
  attackerName: { label: 'attacker', doc: 'the attacker' },
  cleanAccuracy: { label: 'clean accuracy', doc: 'the setting’s clean accuracy' },
  benignFlagged: { label: 'benign flagged', doc: 'share of benign queries the detector refused' },
  detected: { label: 'detected', doc: 'share of runs that met a refusal' },
  medianFirstDetection: { label: 'first detection', doc: 'median queries to the first refusal' },
  meanRefused: { label: 'refused / run', doc: 'refused queries per run' },
  meanForwardPasses: { label: 'passes / run', doc: 'the server’s forward passes per run' },
  meanQueriesIfBanned: { label: 'queries if banned', doc: 'queries plus refused queries per run' },
  sentEqualsServer: { label: 'client = server', doc: 'runs whose client count equals the server’s' },
  maxQueries: { label: 'max queries', doc: 'most queries the server charged one run' },
  belowEq6: { label: 'below eq. (6)', doc: 'images whose distortion is below their eq. (6) bound (their final point is not adversarial at level P_a)' },
};

/** Rows are sorted by these fields, in this order (setting, attack, n, P_a, …), then as given. */
const SORT_KEYS = ['model', 'sigma', 'attack', 'n', 'Pa', 'oracle', 'attacker'];

function compare(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en');
}

export function sortRows<R extends Record<string, Cell>>(rows: R[]): R[] {
  const keys = SORT_KEYS.filter((k) => rows.some((r) => k in r));
  return rows
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) => {
      for (const k of keys) {
        const c = compare(a[k], b[k]);
        if (c !== 0) return c;
      }
      return i - j;
    })
    .map(([r]) => r);
}

function cell(v: Cell, col: Column | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '–';
  if (typeof v === 'number') return col?.format ? col.format(v) : Number.isInteger(v) ? String(v) : v.toFixed(3);
  return esc(String(v));
}

/**
 * A table of rows (one column per field of the first row), sorted, with readable headers and, under
 * it, a line defining each column. `docs` overrides a column's definition for this table.
 */
export function table(rows: Record<string, Cell>[], docs: Record<string, string> = {}): string {
  if (rows.length === 0) return '<p>(no rows)</p>';
  const keys = Object.keys(rows[0]);
  const cols = keys.map((k) => ({ key: k, ...(COLUMNS[k] ?? { label: k, doc: '' }), ...(docs[k] ? { doc: docs[k] } : {}) }));
  const head = cols.map((c) => `<th scope="col" title="${esc(c.doc)}">${esc(c.label)}</th>`).join('');
  const body = sortRows(rows)
    .map((r) => `<tr>${cols.map((c) => `<td>${cell(r[c.key], c)}</td>`).join('')}</tr>`)
    .join('\n');
  const legend = cols
    .filter((c) => c.doc)
    .map((c) => `<b>${esc(c.label)}</b>: ${esc(c.doc)}`)
    .join('; ');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>\n<p class="legend">${legend}.</p>`;
}
