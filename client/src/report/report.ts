// rs-arena report DIR: the results folder → figures (SVG + PNG), CSV summaries, findings.json and
// one self-contained report.html (figures inlined as SVG).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { binarySearch } from '../experiments/records/binary-search.js';
import { certification } from '../experiments/records/certification.js';
import { distortion } from '../experiments/records/distortion.js';
import { type ExperimentSpec, recordSpec } from '../experiments/records/experiment.js';
import { PresetHeader, firstIssue, normalizePreset } from '../experiments/records/preset.js';
import { readRecords } from '../results-file.js';
import type { Figure } from './figures.js';
import { findings, type Finding } from './findings.js';
import type { ReportContext } from './section.js';
import { SECTIONS } from './sections/index.js';
import { esc } from './table.js';

const RunInfo = z.object({ preset: PresetHeader, command: z.string(), startedAt: z.string() });

const VERDICT_CLASS: Record<Finding['verdict'], string> = { reproduced: 'reproduced', 'not reproduced': 'not', partly: 'partly', 'no data': 'nodata' };

/** The report's view of a results folder: preset.json's configs and the records, each validated. */
export function reportContext(dir: string): { ctx: ReportContext; meta: z.output<typeof RunInfo> } {
  const path = join(dir, 'preset.json');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { preset?: unknown };
  const info = RunInfo.safeParse({ ...raw, preset: normalizePreset(raw.preset) });
  if (!info.success) throw new Error(`${path}: ${firstIssue(info.error)}`);
  const preset = info.data.preset as Record<string, unknown>;
  const configs = new Map<string, unknown>();
  const config = <C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>): z.output<C> | undefined => {
    if (preset[spec.name] === undefined) return undefined;
    if (!configs.has(spec.name)) {
      const r = spec.config.safeParse(preset[spec.name]);
      if (!r.success) throw new Error(`${path}: ${firstIssue(r.error, `preset.${spec.name}`)}`);
      configs.set(spec.name, r.data);
    }
    return configs.get(spec.name) as z.output<C>;
  };
  const cache = new Map<string, unknown[]>();
  const records = <C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>): z.output<R>[] => {
    if (!cache.has(spec.name)) {
      const c = config(spec);
      // Without the config, a spec that selects by it or derives old records' fields from it has none.
      const all = (spec.select || spec.upgrade) && c === undefined ? [] : [...readRecords(join(dir, spec.file), c === undefined ? { schema: spec.record, key: spec.key } : recordSpec(spec, c)).values()];
      cache.set(spec.name, spec.select && c !== undefined ? spec.select(all, c) : all);
    }
    return cache.get(spec.name) as z.output<R>[];
  };
  return { ctx: { dir, config, records }, meta: info.data };
}

export async function buildReport(dir: string): Promise<string> {
  const { ctx, meta } = reportContext(dir);
  const p = meta.preset;
  const sections: { title: string; figures: Figure[]; html: string }[] = [];
  for (const section of SECTIONS) {
    if (ctx.config(section.experiment) === undefined || ctx.records(section.experiment).length === 0) continue;
    sections.push({ title: section.title, ...(await section.build(ctx)) });
  }
  const found: Finding[] = findings(ctx.records(distortion), ctx.records(certification), ctx.records(binarySearch), ctx.config(distortion)?.attacks);
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
