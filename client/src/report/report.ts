// rs-arena report DIR: the results folder → figures (SVG + PNG), CSV summaries, findings.json and
// one self-contained report.html (figures inlined as SVG).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findModel, loadCatalog } from '@rs-arena/shared/catalog';
import { binarySearchFigures, type BinarySearchRecord } from '../experiments/binary-search.js';
import { certificationFigures, distortionToRadius, type CertificationRecord } from '../experiments/certification.js';
import { directionFigures, type DirectionRecord } from '../experiments/direction.js';
import { distortionFigures, recordsOf, summarizeDistortion, type DistortionRecord } from '../experiments/distortion.js';
import type { Figure } from '../experiments/figures.js';
import type { Preset } from '../experiments/presets.js';
import { sliceFigures, type SliceRecord } from '../experiments/slice.js';
import { findings, type Finding } from './findings.js';

function readJsonl<T>(dir: string, name: string): T[] {
  const path = join(dir, name);
  if (!existsSync(path)) return [];
  const byKey = new Map<string, T>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const r = JSON.parse(line) as T & { key: string };
      byKey.set(r.key, r);
    } catch {
      /* torn line */
    }
  }
  return [...byKey.values()];
}

const VERDICT_CLASS: Record<Finding['verdict'], string> = { reproduced: 'reproduced', 'not reproduced': 'not', partly: 'partly', 'no data': 'nodata' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: unknown) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(3)) : x === null || x === undefined ? '–' : esc(String(x)));

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '<p>(no rows)</p>';
  const cols = Object.keys(rows[0]);
  return `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${cols.map((c) => `<td>${num(r[c])}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export async function buildReport(dir: string): Promise<string> {
  const meta = JSON.parse(readFileSync(join(dir, 'preset.json'), 'utf8')) as { preset: Preset; command: string; startedAt: string };
  const p = meta.preset;
  const dist = p.distortion ? recordsOf(readJsonl<DistortionRecord>(dir, 'distortion.jsonl'), p.distortion) : [];
  const cert = readJsonl<CertificationRecord>(dir, 'certification.jsonl');
  const direction = readJsonl<DirectionRecord>(dir, 'direction.jsonl');
  const slice = readJsonl<SliceRecord>(dir, 'slice.jsonl');
  const bs = readJsonl<BinarySearchRecord>(dir, 'binary-search.jsonl');
  const sections: { title: string; figures: Figure[]; html: string }[] = [];
  if (p.distortion && dist.length) {
    const rows = summarizeDistortion(dist);
    sections.push({
      title: 'Distortion vs accuracy (Fig. 5) and vs queries',
      figures: await distortionFigures(dir, dist, p.distortion),
      html: `<p>Shortcut oracle: the paper's simulation (⌈n·P_a⌉ wrong micro-decisions, evaluator votes). Repeated: the realistic attacker, ℓ paid top-1 queries per point. "at level" is the share of final points whose fresh eq. (4) probability reaches P_a.</p>${table(rows as unknown as Record<string, unknown>[])}`,
    });
  }
  if (p.certification && cert.length) {
    const ratios = distortionToRadius(cert, dist);
    sections.push({
      title: 'Certification (Fig. 4) and distortion ÷ certified radius',
      figures: await certificationFigures(dir, cert, p.certification, dist),
      html: table(ratios as unknown as Record<string, unknown>[]),
    });
  }
  if (p.direction && direction.length) sections.push({ title: 'Probability of being adversarial along x0 → xa (Fig. 1)', figures: await directionFigures(dir, direction, p.direction), html: '' });
  if (p.slice && slice.length) {
    const entry = findModel(loadCatalog(), p.slice.model);
    sections.push({ title: 'A 2-D slice of input space (Fig. 2)', figures: await sliceFigures(dir, slice, p.slice, entry?.classNames ?? []), html: '' });
  }
  if (p.binarySearch && bs.length) sections.push({ title: 'Binary search under RS (Fig. 3)', figures: await binarySearchFigures(dir, bs, p.binarySearch), html: '' });
  const found: Finding[] = findings(dist, cert, bs);
  writeFileSync(join(dir, 'findings.json'), JSON.stringify(found, null, 2));

  const figureHtml = (f: Figure) => `<figure>${readFileSync(join(dir, f.svg), 'utf8')}<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} (<a href="${f.png}">PNG</a>, <a href="${f.svg}">SVG</a>)</figcaption></figure>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rs-arena report: ${esc(p.name)}</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}figcaption{font-size:13px;color:#444;max-width:760px}
.reproduced{color:#1a7f37}.not{color:#b42318}.partly{color:#9a6700}.nodata{color:#777}code{background:#f5f5f5;padding:1px 4px}
</style></head><body>
<h1>rs-arena report: ${esc(p.name)}</h1>
<p>${esc(p.description)}</p>
<p>Made by <code>${esc(meta.command)}</code>, started ${esc(meta.startedAt)}; data in this folder (JSONL, CSV).</p>
<h2>The paper's findings, checked</h2>
<table><thead><tr><th>finding (Maho, Furon &amp; Le Merrer 2022)</th><th>verdict</th><th>our numbers</th></tr></thead><tbody>
${found.map((f) => `<tr><td style="text-align:left">${esc(f.paper)}</td><td class="${VERDICT_CLASS[f.verdict]}">${f.verdict}</td><td style="text-align:left">${esc(f.evidence)}</td></tr>`).join('\n')}
</tbody></table>
${sections.map((s) => `<h2>${esc(s.title)}</h2>${s.html}${s.figures.map(figureHtml).join('\n')}`).join('\n')}
</body></html>
`;
  const out = join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
