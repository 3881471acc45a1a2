// Report section of the slice experiment (Fig. 2): one panel per setting, each grid cell coloured
// by the label answered there.
import { findModel, loadCatalog } from '@rs-arena/shared/catalog';
import { type SliceConfig, type SliceRecord, slice } from '../../experiments/records/slice.js';
import { type Figure, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { labelMapChart } from '../charts.js';

async function sliceFigures(dir: string, records: SliceRecord[], c: SliceConfig, classNames: string[]): Promise<Figure[]> {
  if (records.length === 0) return [];
  const panels = records.slice().sort((a, b) => a.sigma - b.sigma || a.n - b.n);
  const G = c.grid;
  // x0 at the centre; xa on the horizontal axis, ‖xa − x0‖ / half of the half-width to the right.
  const markers = (p: SliceRecord) => [
    { x: G / 2, y: G / 2, hollow: true },
    { x: G / 2 + (p.l2 / p.half) * (G / 2), y: G / 2 },
  ];
  const svg = await labelMapChart({
    title: `Labels answered around test image ${c.image}, ${c.model}`,
    subtitle: `○ x0   ● base adversarial xa   half-width ${panels[0].half.toFixed(2)} (L2)`,
    panels: panels.map((p) => ({ title: p.sigma === 0 ? 'no RS' : `RS σ=${p.sigma}, n=${p.n}`, grid: G, cells: p.labels, markers: markers(p) })),
    className: (l) => `${l} ${classNames[l] ?? ''}${l === panels[0].trueLabel ? ' (true)' : ''}`,
    size: Math.max(3, Math.floor(240 / G)) * G,
  });
  return [
    await writeFigure(
      dir,
      `fig2-slice-${c.image}`,
      `A 2-D slice around test image ${c.image}`,
      `Labels answered on a ${c.grid}×${c.grid} grid in the plane of x0, the base model's adversarial direction (horizontal) and a random orthogonal direction (vertical); ${c.model}, without RS and with RS σ = ${c.sigma}.`,
      svg,
    ),
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
