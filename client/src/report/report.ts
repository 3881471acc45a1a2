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
import { reportHtml, table } from './html.js';

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
      html: table(ratios as unknown as Record<string, unknown>[], { images: 'images certified correctly (R > 0) and attacked successfully' }),
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

  const html = reportHtml({ name: p.name, description: p.description, command: meta.command, startedAt: meta.startedAt, findings: found, sections, svgOf: (f) => readFileSync(join(dir, f.svg), 'utf8') });
  const out = join(dir, 'report.html');
  writeFileSync(out, html);
  return out;
}
