// Experiment figures as Vega-Lite specs, rendered to SVG by Vega in Node (headless, no browser) and
// to PNG by sharp. A declarative library instead of hand-placed SVG: scales, ticks, legends and
// layout (legends and titles inside the figure's bounds) come from Vega.
//  - Colours come from the registry in colors.ts, bound to series names, never to series order.
//  - Element ids (Vega's clip paths) are prefixed per figure: inlined side by side in report.html,
//    figures must not share an id.
//  - Text: every figure uses the shipped font (fonts.ts), for Vega's layout and for the PNG, so
//    PNGs are identical on every machine and legends get the room their text takes.
import { createHash } from 'node:crypto';
import type { TopLevelSpec } from 'vega-lite';
import { classColor, colorOf } from './colors.js';
import { figureCache } from './figure-cache.js';
import { FONT_FAMILY, type VegaTextMetrics, useShippedFontForRasterising, useShippedFontMetrics } from './fonts.js';

// fontconfig reads FONTCONFIG_FILE once, when librsvg first lays out text: set it as this module
// loads, and load sharp only after (process.env writes reach the C environment).
useShippedFontForRasterising();

export interface Series {
  name: string;
  points: [number, number][];
  /** Draw markers only (no line). */
  scatter?: boolean;
  dashed?: boolean;
  /** Overrides the registry colour (colors.ts); rarely right: the registry keeps figures consistent. */
  color?: string;
  /**
   * What distinguishes each point (same order as `points`), e.g. "n=10": drawn as the point's shape,
   * with a legend (labels written beside points overlapped).
   */
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
  /** Approximate width of the whole figure (plot, axes and legend), in px. */
  width?: number;
  height?: number;
  /** Vertical reference lines (e.g. a certified radius). */
  vLines?: { x: number; label: string }[];
}

const CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 8,
  title: { fontSize: 14, fontWeight: 'bold', anchor: 'start', limit: 0, subtitleFontSize: 11, subtitleColor: '#444' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e5e5e5', domainColor: '#333', tickColor: '#333', labelLimit: 0 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titleLimit: 0, symbolStrokeWidth: 2.5 },
  header: { labelFontSize: 12, labelFontWeight: 'bold' },
  view: { stroke: '#333' },
} as const;

const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'triangle-right', 'triangle-left'];
const DASH: number[] = [6, 4];
const SOLID: number[] = [1, 0];
const BY_NAME = new Intl.Collator('en', { numeric: true });

/** The nearest of 1, 2, 5 × 10^k at or below (down) or at or above (up) x > 0. */
export function step125(x: number, dir: 'up' | 'down'): number {
  const k = Math.floor(Math.log10(x));
  const steps = [1, 2, 5, 10].map((m) => m * 10 ** k);
  // The tolerance absorbs 10 ** k rounding (e.g. 1000 = 10 ** 3 computed as 999.9999…).
  return dir === 'up' ? steps.find((v) => v >= x * (1 - 1e-12))! : [...steps].reverse().find((v) => v <= x * (1 + 1e-12))!;
}

/** Log-axis labels: 1, 2 and 5 per decade within the domain (Vega's default labels every integer multiple, which overlap). */
function logTicks(d: [number, number]): number[] {
  const first = Math.floor(Math.log10(d[0]));
  return [...Array(Math.max(0, Math.ceil(Math.log10(d[1])) - first + 1)).keys()]
    .flatMap((i) => [1, 2, 5].map((m) => m * 10 ** (first + i)))
    .filter((v) => v >= d[0] * (1 - 1e-9) && v <= d[1] * (1 + 1e-9));
}

/** Padded data extent like a plot needs: 5% margins (not below 0 for positive data), 1-2-5 steps for log axes. */
function extent(values: number[], log: boolean): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  // Log axes end on a 1-2-5 step, not the next decade: a curve to 20,000 does not get an empty decade.
  if (log) return [step125(lo, 'down'), step125(hi, 'up')];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const p = (hi - lo) * 0.05;
  return [lo > 0 && lo - p < 0 ? 0 : lo - p, hi + p];
}

/**
 * Renames every element id of an SVG and rewrites its references (url(#…), href="#…"), so several
 * SVGs can be inlined in one HTML page without one's clip path applying to another. `rename` gets
 * each id and its index in order of first definition; by default ids become `${prefix}${id}`.
 */
export function scopeIds(svg: string, prefix: string, rename: (id: string, index: number) => string = (id) => prefix + id): string {
  const defined = [...new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]))];
  if (defined.length === 0) return svg;
  const names = new Map(defined.map((id, i) => [id, rename(id, i)]));
  const ref = (id: string) => names.get(id) ?? id;
  return svg.replace(/(\sid=")([^"]+)(")|url\(#([^)]+)\)|(href=")#([^"]+)(")/g, (_m, a, id1, c, id2, h, id3, e) =>
    id1 !== undefined ? `${a}${ref(id1)}${c}` : id2 !== undefined ? `url(#${ref(id2)})` : `${h}#${ref(id3)}${e}`,
  );
}

let engine: Promise<{ vega: typeof import('vega'); compile: typeof import('vega-lite').compile }> | undefined;

/** Vega and Vega-Lite, loaded on the first figure (about 1–2 s of imports every CLI command would otherwise pay). */
function loadEngine() {
  return (engine ??= (async () => {
    const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
    await useShippedFontMetrics(vega as unknown as VegaTextMetrics);
    return { vega, compile };
  })());
}

/**
 * Compiles a Vega-Lite spec and renders it to SVG in Node; ids are prefixed from `key` (stable per
 * figure). In a report build, a spec the folder's figures were drawn from before gives that SVG
 * (figure-cache.ts) without loading Vega.
 */
export async function renderSvg(spec: TopLevelSpec, key: string): Promise<string> {
  const cache = figureCache();
  const cached = cache?.svg(spec, key);
  if (cached?.svg !== undefined) return cached.svg;
  const svg = await render(spec, key);
  if (cached) cache!.rendered(cached.hash, svg);
  return svg;
}

async function render(spec: TopLevelSpec, key: string): Promise<string> {
  const { vega, compile } = await loadEngine();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    // Vega numbers clip paths with a process-wide counter: renumber them in order of appearance so
    // a figure's SVG does not depend on what was drawn before it, under a prefix of its own.
    const prefix = `f${createHash('sha256').update(key).digest('hex').slice(0, 8)}-`;
    return scopeIds(await view.toSVG(), prefix, (_, i) => `${prefix}${i + 1}`);
  } finally {
    view.finalize();
  }
}

/** Point rows for Vega: one per finite point, in the series' own order (lines connect in that order). */
interface Row {
  s: string;
  x: number;
  y: number;
  k: number;
  label: string | null;
  line: boolean;
  dot: boolean;
}

function legendTitle(labels: string[]): string {
  const keys = new Set(labels.map((l) => /^([^=]+)=/.exec(l)?.[1].trim() ?? ''));
  return keys.size === 1 && !keys.has('') ? [...keys][0] : 'point';
}

export function lineChartSpec(spec: ChartSpec): TopLevelSpec {
  const W = spec.width ?? 640;
  const H = spec.height ?? 420;
  const ok = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0);
  const rows: Row[] = spec.series.flatMap((s) => {
    const pts = s.points.filter(ok);
    const line = !s.scatter && pts.length > 1;
    // Markers where they carry information: scatter, labelled points, short lines (not a 2-point reference line).
    const dot = !!s.scatter || !!s.labels || (pts.length > 2 && pts.length <= 12);
    return s.points.flatMap((p, k) => (ok(p) ? [{ s: s.name, x: p[0], y: p[1], k, label: s.labels?.[k] ?? null, line, dot }] : []));
  });
  const all = spec.series.flatMap((s) => s.points);
  const xDomain = spec.xRange ?? extent([...all.map((p) => p[0]), ...(spec.vLines ?? []).map((l) => l.x)], !!spec.xLog);
  const yDomain =
    spec.yRange ??
    extent(
      all.map((p) => p[1]),
      !!spec.yLog,
    );
  // The legend lists series by name (numbers in numeric order), the same order in every figure.
  const series = spec.series.slice().sort((a, b) => BY_NAME.compare(a.name, b.name));
  const names = series.map((s) => s.name);
  const colour = { domain: names, range: series.map((s) => s.color ?? colorOf(s.name)) };
  const labels = [...new Set(rows.filter((r) => r.dot && r.label !== null).map((r) => r.label!))];
  // `zero` only on linear scales (Vega-Lite drops it on log scales, with a warning).
  const x = {
    field: 'x',
    type: 'quantitative',
    title: spec.xLabel,
    ...(spec.xLog ? { axis: { values: logTicks(xDomain) } } : {}),
    scale: spec.xLog ? { type: 'log', domain: xDomain, nice: false } : { type: 'linear', domain: xDomain, nice: false, zero: false },
  } as const;
  const y = {
    field: 'y',
    type: 'quantitative',
    title: spec.yLabel,
    scale: spec.yLog ? { type: 'log', domain: yDomain, nice: false } : { type: 'linear', domain: yDomain, nice: false, zero: false },
  } as const;
  const color = { field: 's', type: 'nominal', title: null, scale: colour, sort: null, legend: { orient: 'right', symbolType: 'stroke' } } as const;
  const layers: object[] = [
    {
      transform: [{ filter: 'datum.line' }],
      mark: { type: 'line', clip: true, strokeWidth: 2 },
      encoding: {
        x,
        y,
        color,
        strokeDash: { field: 's', type: 'nominal', title: null, sort: null, scale: { domain: names, range: series.map((s) => (s.dashed ? DASH : SOLID)) } },
        order: { field: 'k', type: 'quantitative' },
      },
    },
    {
      transform: [{ filter: 'datum.dot && datum.label === null' }],
      mark: { type: 'point', clip: true, filled: true, size: 36, opacity: 1 },
      encoding: { x, y, color },
    },
  ];
  if (labels.length) {
    layers.push({
      transform: [{ filter: 'datum.dot && datum.label !== null' }],
      mark: { type: 'point', clip: true, filled: true, size: 52, opacity: 1, stroke: 'white', strokeWidth: 0.6 },
      encoding: {
        x,
        y,
        color,
        shape: {
          field: 'label',
          type: 'nominal',
          title: legendTitle(labels),
          sort: null,
          scale: { domain: labels, range: labels.map((_, i) => SHAPES[i % SHAPES.length]) },
          legend: { orient: 'right', symbolFillColor: '#555', symbolStrokeColor: '#555' },
        },
      },
    });
  }
  // Reference-line labels on staggered rows: neighbouring lines' labels never overlap.
  for (const [i, v] of (spec.vLines ?? []).entries()) {
    layers.push(
      { data: { values: [{ x: v.x }] }, mark: { type: 'rule', clip: true, color: '#555', strokeDash: [2, 3] }, encoding: { x } },
      {
        data: { values: [{ x: v.x, t: v.label }] },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 4 + 13 * i, fontSize: 10, color: '#555' },
        encoding: { x, text: { field: 't' } },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: spec.title },
    // The plot takes what the legend column and axes leave of the requested figure size.
    width: Math.max(300, W - 300),
    height: Math.max(200, H - 110),
    data: { values: rows },
    layer: layers,
    resolve: { scale: { color: 'shared' } },
    config: CONFIG,
  } as TopLevelSpec;
}

export function lineChart(spec: ChartSpec): Promise<string> {
  return renderSvg(lineChartSpec(spec), `line ${spec.title}`);
}

export type HistogramSpec = Omit<ChartSpec, 'series'> & { samples: { name: string; values: number[] }[]; bins?: number; density?: boolean };

/** Overlaid histograms (as step lines) of several samples over common bins (density unless density: false). */
export function histogramSeries(spec: HistogramSpec): { series: Series[]; range: [number, number] } {
  const values = spec.samples.flatMap((s) => s.values).filter(Number.isFinite);
  let [lo, hi] = spec.xRange ?? (values.length ? [Math.min(...values), Math.max(...values)] : [0, 1]);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const bins = spec.bins ?? 40;
  const width = (hi - lo) / bins;
  const series = spec.samples.map((s) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of s.values) if (v >= lo && v <= hi) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    const norm = spec.density === false ? 1 : 1 / (s.values.length * width);
    const points: [number, number][] = [];
    counts.forEach((c, k) => points.push([lo + k * width, c * norm], [lo + (k + 1) * width, c * norm]));
    return { name: s.name, points };
  });
  return { series, range: [lo, hi] };
}

export function histogramChart(spec: HistogramSpec): Promise<string> {
  const { series, range } = histogramSeries(spec);
  return lineChart({ ...spec, series, xRange: range });
}

/** One panel of a label map: `cells[row * grid + col]` is the class answered (< 0: none), row 0 at the top. */
interface LabelMapPanel {
  title: string;
  grid: number;
  cells: number[];
  /** Markers in grid units (0 … grid; (grid/2, grid/2) is the centre); `hollow` draws a white dot. */
  markers?: { x: number; y: number; hollow?: boolean }[];
}

export interface LabelMapSpec {
  title: string;
  subtitle?: string;
  panels: LabelMapPanel[];
  /** Legend text of a class (e.g. "3 Dress (true)"). */
  className: (label: number) => string;
  /** Panel side in px. */
  size?: number;
}

/** Side-by-side maps of the class answered on a grid (Fig. 2), one colour per class (colors.ts). */
function labelMapSpec(spec: LabelMapSpec): TopLevelSpec {
  const used = [...new Set(spec.panels.flatMap((p) => p.cells))].sort((a, b) => a - b);
  const name = new Map(used.map((l) => [l, l < 0 ? 'no answer' : spec.className(l)]));
  const rows: object[] = [];
  spec.panels.forEach((p, i) => {
    // One rect per run of equal cells along a row: the same picture with far fewer marks (a 48×48
    // grid is 2,304 cells per panel, mostly in a few runs), so far less to lay out and rasterise.
    for (let r = 0; r < p.grid; r++) {
      for (let c = 0; c < p.grid; ) {
        const l = p.cells[r * p.grid + c];
        let end = c + 1;
        while (end < p.grid && p.cells[r * p.grid + end] === l) end++;
        rows.push({ p: i, c, c1: end, r: p.grid - r - 1, r1: p.grid - r, cls: name.get(l) });
        c = end;
      }
    }
    for (const m of p.markers ?? []) rows.push({ p: i, mx: m.x, my: p.grid - m.y, hollow: !!m.hollow });
  });
  const G = Math.max(...spec.panels.map((p) => p.grid));
  const size = spec.size ?? 240;
  const x = { field: 'c', type: 'quantitative' as const, axis: null, scale: { domain: [0, G], nice: false, zero: false } };
  const y = { field: 'r', type: 'quantitative' as const, axis: null, scale: { domain: [0, G], nice: false, zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: spec.title, ...(spec.subtitle ? { subtitle: spec.subtitle } : {}) },
    data: { values: rows },
    facet: {
      column: {
        field: 'p',
        type: 'ordinal',
        title: null,
        header: { labelExpr: `${JSON.stringify(spec.panels.map((p) => p.title))}[datum.value]`, labelFontSize: 12 },
      },
    },
    spacing: 16,
    spec: {
      width: size,
      height: size,
      layer: [
        {
          transform: [{ filter: 'isValid(datum.cls)' }],
          mark: { type: 'rect', strokeWidth: 0 },
          encoding: {
            x,
            x2: { field: 'c1' },
            y,
            y2: { field: 'r1' },
            color: {
              field: 'cls',
              type: 'nominal',
              title: 'answered class',
              sort: null,
              scale: { domain: used.map((l) => name.get(l)), range: used.map(classColor) },
              legend: { orient: 'bottom', direction: 'horizontal', columns: 4, symbolType: 'square', symbolSize: 120 },
            },
          },
        },
        {
          transform: [{ filter: 'isValid(datum.mx)' }],
          mark: { type: 'circle', size: 64, strokeWidth: 2, opacity: 1 },
          encoding: {
            x: { ...x, field: 'mx' },
            y: { ...y, field: 'my' },
            fill: { condition: { test: 'datum.hollow', value: 'white' }, value: 'black' },
            stroke: { condition: { test: 'datum.hollow', value: 'black' }, value: 'white' },
          },
        },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec;
}

export function labelMapChart(spec: LabelMapSpec): Promise<string> {
  return renderSvg(labelMapSpec(spec), `labels ${spec.title}`);
}

let sharpModule: Promise<typeof import('sharp')> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp'));

/** SVG → PNG (sharp renders SVG with librsvg), at `density` DPI (96: 1:1). */
export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  const { default: sharp } = await loadSharp();
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}
