// rs-arena report DIR: the results folder → figures (SVG + PNG), CSV summaries, findings.json and
// one self-contained report.html (figures inlined as SVG).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { binarySearch } from '../experiments/records/binary-search.js';
import { direction } from '../experiments/records/direction.js';
import { certification } from '../experiments/records/certification.js';
import { confidenceCost } from '../experiments/records/confidence-cost.js';
import { defenseMenu } from '../experiments/records/defense-menu.js';
import { distortion } from '../experiments/records/distortion.js';
import { type ExperimentSpec, recordSpec } from '../experiments/records/experiment.js';
import { PresetHeader, firstIssue, normalizePreset } from '../experiments/records/preset.js';
import { redactCommand } from '../redact.js';
import { readRecords } from '../results-file.js';
import type { Figure } from './figures.js';
import { withFigureCache } from './figure-cache.js';
import { type Finding, type FindingsFile, type SigmaByCost, findings } from './findings.js';
import { sigmaSearches } from './sections/accuracy.js';
import { accuracy } from '../experiments/records/accuracy.js';
import { METHOD } from './statistics.js';
import type { ReportContext } from './section.js';
import { confidenceCostFindings } from './sections/confidence-cost.js';
import { defenseMenuFindings } from './sections/defense-menu.js';
import { SECTIONS } from './sections/index.js';
import { reportHtml } from './html.js';
import { type Versioned, checkVersions } from './versions.js';

const Run = z.object({ command: z.string(), startedAt: z.string() });
/** preset.json: the preset, the latest run, and every run that made the folder (`runs`, experiments/run.ts). */
const RunInfo = z.object({ preset: PresetHeader, command: z.string(), startedAt: z.string(), runs: z.array(Run).optional() });

/** The report's view of a results folder: preset.json's configs and the records, each validated. */
export function reportContext(dir: string): { ctx: ReportContext; meta: z.output<typeof RunInfo> } {
  const path = join(dir, 'preset.json');
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { preset?: unknown };
  const info = RunInfo.safeParse({ ...raw, preset: normalizePreset(raw.preset) });
  if (!info.success) throw new Error(`${path}: ${firstIssue(info.error, '', RunInfo)}`);
  const preset = info.data.preset as Record<string, unknown>;
  const configs = new Map<string, unknown>();
  const config = <C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>): z.output<C> | undefined => {
    if (preset[spec.name] === undefined) return undefined;
    if (!configs.has(spec.name)) {
      const r = spec.config.safeParse(preset[spec.name]);
      if (!r.success) throw new Error(`${path}: ${firstIssue(r.error, `preset.${spec.name}`, spec.config)}`);
      configs.set(spec.name, r.data);
    }
    return configs.get(spec.name) as z.output<C>;
  };
  const cache = new Map<string, unknown[]>();
  const records = <C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>): z.output<R>[] => {
    if (!cache.has(spec.name)) {
      const c = config(spec);
      // Without the config, a spec that selects by it or derives old records' fields from it has none.
      const all =
        (spec.select || spec.upgrade) && c === undefined
          ? []
          : [...readRecords(join(dir, spec.file), c === undefined ? { schema: spec.record, key: spec.key } : recordSpec(spec, c)).values()];
      cache.set(spec.name, spec.select && c !== undefined ? spec.select(all, c) : all);
    }
    return cache.get(spec.name) as z.output<R>[];
  };
  return { ctx: { dir, config, records }, meta: info.data };
}

export interface ReportOptions {
  /** Build even when a cell mixes records of different attack code versions (the report says so). */
  allowMixedVersions?: boolean;
}

/** The σ the accuracy experiment's search found per model and accuracy cost, where it ran. */
function sigmaByCost(ctx: ReportContext): SigmaByCost[] {
  const c = ctx.config(accuracy);
  if (!c) return [];
  return sigmaSearches(ctx.records(accuracy), c).flatMap((s) => (s.sigma === null ? [] : [{ model: s.model, drop: s.drop, sigma: s.sigma }]));
}

export async function buildReport(dir: string, options: ReportOptions = {}): Promise<string> {
  const { ctx, meta } = reportContext(dir);
  const notes: string[] = [];
  for (const spec of [distortion, confidenceCost] as ExperimentSpec[]) {
    if (ctx.config(spec) === undefined) continue;
    const v = checkVersions(spec.file, ctx.records(spec) as Versioned[], options.allowMixedVersions ?? false);
    if (v.total)
      notes.push(
        v.stale
          ? `${spec.file}: ${v.stale} of ${v.total} attack records are stale (made by other attack code than the current, or of unknown version: the "stale" column counts them; rerunning the experiment replaces them).`
          : `${spec.file}: all ${v.total} attack records were made by the current attack code.`,
      );
  }
  const p = meta.preset;
  const sections: { title: string; figures: Figure[]; html: string }[] = [];
  await withFigureCache(dir, async () => {
    for (const section of SECTIONS) {
      if (ctx.config(section.experiment) === undefined || ctx.records(section.experiment).length === 0) continue;
      sections.push({ title: section.title, ...(await section.build(ctx)) });
    }
  });
  // The paper's findings rest on the paper's experiments: a preset with none of them (the defense menu alone) has nothing to say about them.
  const paperRuns = [distortion, certification, binarySearch, direction].some((spec) => ctx.config(spec as ExperimentSpec) !== undefined);
  const found: Finding[] = [
    ...(paperRuns
      ? findings(
          ctx.records(distortion),
          ctx.records(certification),
          ctx.records(binarySearch),
          ctx.config(distortion)?.attacks,
          ctx.records(direction),
          sigmaByCost(ctx),
        )
      : []),
    ...confidenceCostFindings(ctx.records(confidenceCost), ctx.config(confidenceCost)),
    ...defenseMenuFindings(ctx.records(defenseMenu), ctx.config(defenseMenu)),
  ];
  const file: FindingsFile = { method: METHOD, paper: found.filter((f) => f.source === 'paper'), project: found.filter((f) => f.source === 'project') };
  writeFileSync(join(dir, 'findings.json'), JSON.stringify(file, null, 2));

  const html = reportHtml({
    name: p.name,
    description: p.description,
    runs: (meta.runs ?? [meta]).map((r) => ({ command: redactCommand(r.command), startedAt: r.startedAt })),
    findings: found,
    notes,
    sections,
    svgOf: (f) => readFileSync(join(dir, f.svg), 'utf8'),
  });
  const out = join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
