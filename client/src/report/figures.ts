// A figure of the report: SVG and PNG side by side in the results folder, plus its caption
// for report.html; and the CSV summaries beside them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { svgToPng } from './charts.js';
import { figureCache } from './figure-cache.js';

export interface Figure {
  name: string;
  title: string;
  caption: string;
  svg: string;
  png: string;
}

/** Writes `name`.svg and its PNG, unless both are already these (figure-cache.ts: a report rebuilt on the same data). */
export async function writeFigure(dir: string, name: string, title: string, caption: string, svg: string): Promise<Figure> {
  const cache = figureCache(dir);
  if (!cache?.current(name, svg)) {
    const png = await svgToPng(svg);
    writeFileSync(join(dir, `${name}.svg`), svg);
    writeFileSync(join(dir, `${name}.png`), png);
    cache?.wrote(name, svg, png);
  }
  return { name, title, caption, svg: `${name}.svg`, png: `${name}.png` };
}

export function writeCsv(dir: string, name: string, rows: Record<string, unknown>[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  writeFileSync(join(dir, name), [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n');
  return name;
}
