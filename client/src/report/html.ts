// report.html: the page template, figures inlined as SVG (ids scoped per figure), and tables with
// readable headers, a definition of each column and sorted rows.
import type { Figure } from './figures.js';
import type { Finding } from './findings.js';
import { scopeIds } from './charts.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

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
  oracle: { label: 'oracle', doc: 'plain: the top-1 endpoint; shortcut: the paper’s simulation (⌈n·P_a⌉ wrong micro-decisions); repeated: ℓ paid top-1 queries per point' },
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
  belowEq6: { label: 'below eq. (6)', doc: 'images whose distortion is below their eq. (6) bound (their final point is not adversarial at level P_a)' },
};

/** Rows are sorted by these fields, in this order (setting, attack, n, P_a, …), then as given. */
const SORT_KEYS = ['model', 'sigma', 'attack', 'n', 'Pa', 'oracle'];

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

const VERDICT_CLASS: Record<Finding['verdict'], string> = { reproduced: 'reproduced', 'not reproduced': 'not', partly: 'partly', 'no data': 'nodata' };

function findingsTable(found: Finding[]): string {
  const rows = found.map((f) => `<tr><td>${esc(f.paper)}</td><td class="${VERDICT_CLASS[f.verdict]}">${f.verdict}</td><td>${esc(f.evidence)}</td></tr>`);
  return `<table class="findings"><thead><tr><th scope="col">finding (Maho, Furon &amp; Le Merrer 2022)</th><th scope="col">verdict</th><th scope="col">our numbers</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** A figure inlined as SVG; its element ids get the figure's name as prefix (unique in the page). */
export function figureHtml(f: Figure, svg: string): string {
  const id = `fig-${f.name}`;
  return `<figure id="${esc(id)}">${scopeIds(svg, `${id}-`)}<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} (<a href="${esc(f.png)}">PNG</a>, <a href="${esc(f.svg)}">SVG</a>)</figcaption></figure>`;
}

export interface ReportSection {
  title: string;
  figures: Figure[];
  /** Text and tables before the figures (HTML). */
  html: string;
}

export interface ReportPage {
  name: string;
  description: string;
  command: string;
  startedAt: string;
  findings: Finding[];
  sections: ReportSection[];
  /** The SVG text of a figure. */
  svgOf: (f: Figure) => string;
}

const STYLE = `
body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
table{border-collapse:collapse;font-size:12px;margin:1em 0 .3em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
table.findings td,table.findings th{text-align:left}
p.legend{font-size:12px;color:#444;margin:0 0 1.2em}
figure{margin:1.5em 0}figure svg{display:block;max-width:100%;height:auto}
figcaption{font-size:13px;color:#444;max-width:760px}
.reproduced{color:#1a7f37}.not{color:#b42318}.partly{color:#9a6700}.nodata{color:#777}code{background:#f5f5f5;padding:1px 4px}
`;

export function reportHtml(p: ReportPage): string {
  const sections = p.sections.map((s) => `<section>\n<h2>${esc(s.title)}</h2>\n${s.html}\n${s.figures.map((f) => figureHtml(f, p.svgOf(f))).join('\n')}\n</section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rs-arena report: ${esc(p.name)}</title>
<style>${STYLE}</style></head><body>
<h1>rs-arena report: ${esc(p.name)}</h1>
<p>${esc(p.description)}</p>
<p>Made by <code>${esc(p.command)}</code>, started ${esc(p.startedAt)}; data in this folder (JSONL, CSV).</p>
<h2>The paper's findings, checked</h2>
${findingsTable(p.findings)}
${sections.join('\n')}
</body></html>
`;
}
