// report.html: the page template, figures inlined as SVG (ids scoped per figure), and tables with
// readable headers, a definition of each column and sorted rows.
import type { Figure } from './figures.js';
import { type Finding, verdictText } from './findings.js';
import { METHOD } from './statistics.js';
import { scopeIds } from './charts.js';
import { esc } from './table.js';

const VERDICT_CLASS: Record<Finding['verdict'], string> = { established: 'reproduced', contradicted: 'not', 'not established': 'partly', 'no data': 'nodata' };

/** Cells shown before the rest fold away: a protocol grid has dozens per claim. */
const SHOWN_CELLS = 3;

/** A finding's evidence, one line per cell ("; " apart); past the first few, the rest under a <details> the reader opens. */
function evidenceHtml(evidence: string): string {
  const cells = evidence.split('; ');
  if (cells.length <= SHOWN_CELLS + 1) return esc(evidence);
  const rest = cells.slice(SHOWN_CELLS);
  return `${esc(cells.slice(0, SHOWN_CELLS).join('; '))}; <details><summary>${rest.length} more</summary><ul>${rest.map((c) => `<li>${esc(c)}</li>`).join('')}</ul></details>`;
}

function findingsTable(found: Finding[], head: string): string {
  const rows = found.map(
    (f) =>
      `<tr><td>${esc(f.claim)}</td><td class="${VERDICT_CLASS[f.verdict]}">${esc(verdictText(f))}</td><td>${evidenceHtml(f.evidence)}<br><small>${esc(f.test)}</small></td></tr>`,
  );
  return `<table class="findings"><thead><tr><th scope="col">${head}</th><th scope="col">verdict</th><th scope="col">our numbers (95% intervals)</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** A figure inlined as SVG; its element ids get the figure's name as prefix (unique in the page). */
export function figureHtml(f: Figure, svg: string): string {
  const id = `fig-${f.name}`;
  return `<figure id="${esc(id)}">${scopeIds(svg, `${id}-`)}<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} (<a href="${esc(f.png)}">PNG</a>, <a href="${esc(f.svg)}">SVG</a>)</figcaption></figure>`;
}

interface ReportSection {
  title: string;
  figures: Figure[];
  /** Text and tables before the figures (HTML). */
  html: string;
}

export interface ReportPage {
  name: string;
  description: string;
  /** The commands that made the folder's records, oldest first (a preset run in parts has several). */
  runs: { command: string; startedAt: string }[];
  findings: Finding[];
  /** Lines under the header (provenance of the records). */
  notes?: string[];
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

/** Where the records came from: the one command, or each command of a preset run in parts. */
function madeBy(runs: ReportPage['runs']): string {
  const run = (r: ReportPage['runs'][number]) => `<code>${esc(r.command)}</code>, started ${esc(r.startedAt)}`;
  if (runs.length === 1) return `<p>Made by ${run(runs[0])}; data in this folder (JSONL, CSV).</p>`;
  return `<p>Made by ${runs.length} runs; data in this folder (JSONL, CSV):</p>\n<ul>\n${runs.map((r) => `<li>${run(r)}</li>`).join('\n')}\n</ul>`;
}

export function reportHtml(p: ReportPage): string {
  const sections = p.sections.map(
    (s) => `<section>\n<h2>${esc(s.title)}</h2>\n${s.html}\n${s.figures.map((f) => figureHtml(f, p.svgOf(f))).join('\n')}\n</section>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rs-arena report: ${esc(p.name)}</title>
<style>${STYLE}</style></head><body>
<h1>rs-arena report: ${esc(p.name)}</h1>
<p>${esc(p.description)}</p>
${madeBy(p.runs)}
${(p.notes ?? []).map((n) => `<p class="legend">${esc(n)}</p>`).join('\n')}
${
  p.findings.some((f) => f.source === 'paper')
    ? `<h2>The paper's findings, checked</h2>\n<p class="legend">${esc(METHOD)}</p>\n${findingsTable(
        p.findings.filter((f) => f.source === 'paper'),
        'claim of the paper (Maho, Furon &amp; Le Merrer 2022)',
      )}`
    : `<p class="legend">${esc(METHOD)}</p>`
}
${
  p.findings.some((f) => f.source === 'project')
    ? `<h2>The project's own targets</h2>\n${findingsTable(
        p.findings.filter((f) => f.source === 'project'),
        'rs-arena target (not a claim of the paper)',
      )}`
    : ''
}
${sections.join('\n')}
</body></html>
`;
}
