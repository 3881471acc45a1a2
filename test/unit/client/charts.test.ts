// Figures through Vega-Lite: colours bound to series names, ids scoped per figure, point labels as
// shapes (never as overlapping text), legends inside the figure, and PNGs that depend only on the
// shipped font (same bytes from separate processes; a family the machine has is not used).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { classColor, colorOf } from '../../../client/src/report/colors.js';
import { type ChartSpec, histogramSeries, lineChart, lineChartSpec, labelMapChart, scopeIds, step125, svgToPng } from '../../../client/src/report/charts.js';
import { shippedFontMetrics } from '../../../client/src/report/fonts.js';

const pts = (...ys: number[]): [number, number][] => ys.map((y, i) => [i + 1, y]);
const chart = (series: ChartSpec['series']): ChartSpec => ({ title: 'a figure', xLabel: 'x', yLabel: 'y', series });

/** Series name → colour, as the spec's colour scale says. */
function colours(spec: ChartSpec): Map<string, string> {
  const layer = (lineChartSpec(spec) as unknown as { layer: { encoding: { color: { scale: { domain: string[]; range: string[] } } } }[] }).layer[0];
  const { domain, range } = layer.encoding.color.scale;
  return new Map(domain.map((d, i) => [d, range[i]]));
}

test('a setting has one colour in every figure, whatever the order or company of its series', () => {
  const a = colours(
    chart([
      { name: 'fmnist-cnn (no RS)', points: pts(1, 2) },
      { name: 'fmnist-cnn σ=0.25', points: pts(3, 4) },
    ]),
  );
  const b = colours(
    chart([
      { name: 'fmnist-cnn σ=0.25', points: pts(1) },
      { name: 'fmnist-cnn-randtrain σ=0.25', points: pts(2) },
      { name: 'fmnist-cnn (no RS)', points: pts(5) },
    ]),
  );
  assert.equal(a.get('fmnist-cnn (no RS)'), b.get('fmnist-cnn (no RS)'));
  assert.equal(a.get('fmnist-cnn σ=0.25'), b.get('fmnist-cnn σ=0.25'));
  assert.notEqual(b.get('fmnist-cnn σ=0.25'), b.get('fmnist-cnn-randtrain σ=0.25'));
  // A series named after a setting plus a qualifier takes the setting's colour; unknown names a stable one.
  assert.equal(colorOf('fmnist-cnn σ=0.05 Pa=0.8'), colorOf('fmnist-cnn σ=0.05'));
  assert.notEqual(colorOf('fmnist-cnn σ=0.05'), colorOf('fmnist-cnn σ=0.15'));
  assert.equal(colorOf('some new model σ=0.3'), colorOf('some new model σ=0.3'));
  assert.match(colorOf('some new model σ=0.3'), /^#[0-9a-f]{6}$/);
  assert.notEqual(classColor(3), classColor(4));
  assert.equal(classColor(-1), '#000000');
});

test('every element id of a figure is scoped to it, and references follow', async () => {
  const spec = chart([{ name: 'fmnist-cnn (no RS)', points: pts(1, 2, 3) }]);
  const one = await lineChart({ ...spec, title: 'one' });
  const two = await lineChart({ ...spec, title: 'two' });
  const ids = (svg: string) => [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  const refs = (svg: string) => [...svg.matchAll(/url\(#([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(ids(one).length > 0, 'Vega clips marks to the plot area with clip paths');
  assert.equal(new Set(ids(one)).size, ids(one).length, 'ids unique within a figure');
  assert.deepEqual(
    ids(one).filter((id) => ids(two).includes(id)),
    [],
    'no id shared by two figures',
  );
  for (const svg of [one, two]) for (const r of refs(svg)) assert.ok(ids(svg).includes(r), `url(#${r}) resolves inside its own figure`);
  // The same figure rendered twice is the same text (no render-order counters leak into ids).
  assert.ok((await lineChart({ ...spec, title: 'one' })) === one);

  const scoped = scopeIds('<svg><clipPath id="c1"/><g clip-path="url(#c1)"/><use href="#c1"/><a href="#elsewhere"/></svg>', 'p-');
  assert.equal(scoped, '<svg><clipPath id="p-c1"/><g clip-path="url(#p-c1)"/><use href="#p-c1"/><a href="#elsewhere"/></svg>');
});

test('point labels become shapes with one legend entry each, not text beside every point', async () => {
  const labels = ['n=1', 'n=10', 'n=100'];
  const svg = await lineChart(
    chart([
      {
        name: 'fmnist-cnn σ=0.05 Pa=0.5',
        points: [
          [0.5, 2],
          [0.51, 2.01],
          [0.52, 2.02],
        ],
        labels,
      },
      {
        name: 'fmnist-cnn σ=0.05 Pa=0.8',
        points: [
          [0.5, 2.5],
          [0.51, 2.49],
          [0.52, 2.48],
        ],
        labels,
        dashed: true,
      },
    ]),
  );
  for (const l of labels) assert.equal(svg.split(`>${l}</text>`).length - 1, 1, `"${l}" written once (in the legend)`);
  assert.match(svg, />n<\/text>/, 'the legend is titled by the label key');
});

test('the figure is wide enough for its longest legend entry (measured in the shipped font)', async () => {
  const long = 'imagenet-mobilenetv2-int8 σ=0.05 Pa=0.5 (a deliberately long series name)';
  const svg = await lineChart({ ...chart([{ name: long, points: pts(1, 2) }]), width: 640 });
  const width = Number(/<svg[^>]* width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
  const plot = (lineChartSpec({ ...chart([]), width: 640 }) as { width: number }).width;
  const measure = await shippedFontMetrics();
  assert.ok(width >= plot + measure(long, 11), `figure ${width} px ≥ plot ${plot} + legend text ${measure(long, 11).toFixed(0)} px`);
  assert.ok(measure('MMMM', 11) > measure('iiii', 11) && measure('abc', 11, 'bold') > measure('abc', 11), 'real glyph widths, bold wider');
});

test('histograms are densities over common bins', () => {
  const { series, range } = histogramSeries({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    samples: [
      { name: 'a', values: [0, 1, 1, 2, 3, 4] },
      { name: 'b', values: [2, 2] },
    ],
    bins: 4,
  });
  assert.deepEqual(range, [0, 4]);
  for (const s of series) {
    const area = s.points.filter((_, k) => k % 2 === 0).reduce((sum, [x], k) => sum + (s.points[2 * k + 1][0] - x) * s.points[2 * k][1], 0);
    assert.ok(Math.abs(area - 1) < 1e-12, `${s.name}: area ${area}`);
  }
});

test('label maps: one rect per run of equal cells, classes in the legend', async () => {
  const svg = await labelMapChart({
    title: 'slice',
    panels: [{ title: 'no RS', grid: 4, cells: [0, 0, 1, 1, 0, 0, 0, 1, 2, 2, 2, 2, -1, 0, 0, 0] }],
    className: (l) => `class ${l}`,
  });
  for (const name of ['class 0', 'class 1', 'class 2', 'no answer']) assert.match(svg, new RegExp(`>${name}</text>`));
  const cells = svg.match(/<path[^>]*fill="(#4e79a7|#f28e2b|#e15759|#000000)"/g) ?? [];
  assert.equal(cells.length - 4 /* legend symbols */, 7, 'rows hold 2 + 2 + 1 + 2 runs');
});

/** Renders a text-only SVG to PNG in a fresh process (fontconfig starts from scratch) and returns its bytes in base64. */
function pngInFreshProcess(svg: string): string {
  const code = `const { svgToPng } = await import('./client/src/report/charts.ts'); process.stdout.write((await svgToPng(${JSON.stringify(svg)})).toString('base64'));`;
  const env = { ...process.env };
  delete env.FONTCONFIG_FILE; // the machine's own fontconfig set-up, as a user would have it
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const textSvg = (family: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40"><rect width="240" height="40" fill="white"/><text x="6" y="26" font-family="${family}" font-size="16">σ=0.05 Pa=0.8 n=100</text></svg>`;

test('PNGs depend only on the shipped font: same bytes from separate processes, other families not used', async () => {
  const a = pngInFreshProcess(textSvg('DejaVu Sans'));
  assert.equal(pngInFreshProcess(textSvg('DejaVu Sans')), a, 'deterministic across processes');
  // Serif families installed on this machine (Liberation, DejaVu Serif) resolve to the shipped sans too.
  assert.equal(pngInFreshProcess(textSvg('Liberation Serif, DejaVu Serif, serif')), a);
  const chartPng = await svgToPng(await lineChart(chart([{ name: 'fmnist-cnn (no RS)', points: pts(1, 3, 2) }])));
  assert.equal(chartPng.subarray(1, 4).toString(), 'PNG');
});

test('log axes end on a 1-2-5 step: a curve to 20,000 does not get an empty decade', () => {
  assert.deepEqual(
    [100, 150, 1000, 2000, 20_000, 20_001, 0.03].map((x) => step125(x, 'up')),
    [100, 200, 1000, 2000, 20_000, 50_000, 0.05],
  );
  assert.deepEqual(
    [100, 150, 1000, 4000, 20_000, 0.03].map((x) => step125(x, 'down')),
    [100, 100, 1000, 2000, 20_000, 0.02],
  );
});
