// Small, dependency-free SVG charts for experiment figures: line/scatter plots with axes, ticks,
// optional log scales and a legend; histograms. Rendered to PNG through sharp (librsvg).
import sharp from 'sharp';

export interface Series {
  name: string;
  points: [number, number][];
  /** Draw markers only (no line). */
  scatter?: boolean;
  dashed?: boolean;
  color?: string;
  /** A small label beside each point (same order as `points`), e.g. the n a point was measured at. */
  labels?: string[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  yLog?: boolean;
  xRange?: [number, number];
  yRange?: [number, number];
  width?: number;
  height?: number;
  /** Vertical reference lines (e.g. a certified radius). */
  vLines?: { x: number; label: string }[];
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "Nice" tick values covering [lo, hi] (linear), or powers of ten (log). */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const span = hi - lo || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= 7)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(10)));
  return out;
}

const fmtTick = (t: number) => (Math.abs(t) >= 1e4 || (Math.abs(t) < 1e-3 && t !== 0) ? t.toExponential(0) : String(Number(t.toPrecision(4))));

function extent(values: number[], log: boolean, pad: boolean): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  if (log) return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  if (pad) {
    const p = (hi - lo) * 0.05;
    [lo, hi] = [lo > 0 && lo - p < 0 ? 0 : lo - p, hi + p];
  }
  return [lo, hi];
}

export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 420;
  const m = { left: 64, right: 16, top: 36, bottom: 52 };
  const legendW = Math.min(260, 48 + 7 * Math.max(0, ...spec.series.map((s) => s.name.length)));
  const pw = W - m.left - m.right - legendW;
  const ph = H - m.top - m.bottom;
  const all = spec.series.flatMap((s) => s.points);
  const [x0, x1] = spec.xRange ?? extent([...all.map((p) => p[0]), ...(spec.vLines ?? []).map((l) => l.x)], !!spec.xLog, true);
  const [y0, y1] = spec.yRange ?? extent(all.map((p) => p[1]), !!spec.yLog, true);
  const tx = (x: number) => m.left + (spec.xLog ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (x - x0) / (x1 - x0)) * pw;
  const ty = (y: number) => m.top + ph - (spec.yLog ? (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  for (const t of ticks(x0, x1, !!spec.xLog)) {
    const x = tx(t);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  for (const t of ticks(y0, y1, !!spec.yLog)) {
    const y = ty(t);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  out.push(`<defs><clipPath id="plot"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath></defs>`);
  for (const l of spec.vLines ?? []) {
    const x = tx(l.x);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#555" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${x + 3}" y="${m.top + 12}" font-size="10" fill="#555">${esc(l.label)}</text>`);
  }
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0));
    if (!s.scatter && pts.length > 1) {
      const d = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} clip-path="url(#plot)"/>`);
    }
    if (s.scatter || pts.length <= 12) {
      for (const [x, y] of pts) out.push(`<circle cx="${tx(x).toFixed(1)}" cy="${ty(y).toFixed(1)}" r="${s.scatter ? 2.5 : 3}" fill="${color}" clip-path="url(#plot)"/>`);
    }
    s.points.forEach(([x, y], k) => {
      const label = s.labels?.[k];
      if (label && pts.some((p) => p[0] === x && p[1] === y)) out.push(`<text x="${(tx(x) + 5).toFixed(1)}" y="${(ty(y) - 4).toFixed(1)}" font-size="9" fill="${color}">${esc(label)}</text>`);
    });
    const ly = m.top + 8 + i * 18;
    const lx = m.left + pw + 12;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${lx + 24}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Overlaid histograms (as step lines) of several samples over common bins. */
export function histogramChart(spec: Omit<ChartSpec, 'series'> & { samples: { name: string; values: number[] }[]; bins?: number; density?: boolean }): string {
  const values = spec.samples.flatMap((s) => s.values).filter(Number.isFinite);
  const [lo, hi] = spec.xRange ?? extent(values, false, false);
  const bins = spec.bins ?? 40;
  const width = (hi - lo) / bins;
  const series: Series[] = spec.samples.map((s) => {
    const counts = new Array(bins).fill(0);
    for (const v of s.values) if (v >= lo && v <= hi) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    const norm = spec.density === false ? 1 : 1 / (s.values.length * width);
    const points: [number, number][] = [];
    counts.forEach((c, k) => points.push([lo + k * width, c * norm], [lo + (k + 1) * width, c * norm]));
    return { name: s.name, points };
  });
  return lineChart({ ...spec, series, xRange: [lo, hi] });
}

/** SVG → PNG (sharp renders SVG with librsvg), at `density` DPI (96: 1:1). */
export function svgToPng(svg: string, density = 144): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}
