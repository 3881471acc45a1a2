// Report section of the slice experiment (Fig. 2): one panel per setting, each grid cell coloured
// by the label answered there.
import { findModel, loadCatalog } from '@rs-arena/shared/catalog';
import { type SliceConfig, type SliceRecord, slice } from '../../experiments/records/slice.js';
import { type Figure, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { PALETTE } from '../svg.js';

export async function sliceFigures(dir: string, records: SliceRecord[], c: SliceConfig, classNames: string[]): Promise<Figure[]> {
  if (records.length === 0) return [];
  const panels = records.slice().sort((a, b) => a.sigma - b.sigma || a.n - b.n);
  const cell = Math.max(3, Math.floor(240 / c.grid));
  const P = cell * c.grid;
  const gap = 16;
  const W = panels.length * (P + gap) + gap;
  const used = [...new Set(panels.flatMap((p) => p.labels))].filter((l) => l >= 0).sort((a, b) => a - b);
  const H = P + 70 + 18 * Math.ceil(used.length / 4);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="Helvetica, Arial, sans-serif" font-size="12"><rect width="${W}" height="${H}" fill="white"/>`];
  panels.forEach((p, k) => {
    const x0 = gap + k * (P + gap);
    const y0 = 28;
    out.push(`<text x="${x0 + P / 2}" y="18" text-anchor="middle" font-weight="bold">${p.sigma === 0 ? 'no RS' : `RS σ=${p.sigma}, n=${p.n}`}</text>`);
    p.labels.forEach((l, i) => {
      const row = Math.floor(i / c.grid);
      const col = i % c.grid;
      out.push(`<rect x="${x0 + col * cell}" y="${y0 + row * cell}" width="${cell}" height="${cell}" fill="${l < 0 ? '#000' : PALETTE[l % PALETTE.length]}"/>`);
    });
    const cx = x0 + P / 2;
    const cy = y0 + P / 2;
    const ax = cx + (p.l2 / p.half) * (P / 2);
    out.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="white" stroke="black" stroke-width="2"/>`);
    out.push(`<circle cx="${ax}" cy="${cy}" r="4" fill="black" stroke="white" stroke-width="2"/>`);
  });
  used.forEach((l, i) => {
    const x = gap + (i % 4) * 180;
    const y = P + 50 + 18 * Math.floor(i / 4);
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[l % PALETTE.length]}"/><text x="${x + 18}" y="${y}">${l} ${classNames[l] ?? ''}${l === panels[0].trueLabel ? ' (true)' : ''}</text>`);
  });
  out.push(`<text x="${W - gap}" y="${P + 50}" text-anchor="end" fill="#444">○ x0   ● base adversarial xa   half-width ${panels[0].half.toFixed(2)} (L2)</text>`);
  out.push('</svg>');
  return [
    await writeFigure(dir, `fig2-slice-${c.image}`, `A 2-D slice around test image ${c.image}`,
      `Labels answered on a ${c.grid}×${c.grid} grid in the plane of x0, the base model's adversarial direction (horizontal) and a random orthogonal direction (vertical); ${c.model}, without RS and with RS σ = ${c.sigma}.`,
      out.join('\n')),
  ];
}

export const sliceSection = defineSection({
  experiment: slice,
  title: 'A 2-D slice of input space (Fig. 2)',
  async build(ctx, config, records) {
    const entry = findModel(loadCatalog(), config.model);
    return { figures: await sliceFigures(ctx.dir, records, config, entry?.classNames ?? []), html: '' };
  },
});
