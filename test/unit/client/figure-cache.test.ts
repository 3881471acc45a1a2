// A report rebuilt on the same data draws no figure again (figure-cache.ts), and what it keeps is
// exactly what drawing would give: the same SVG and PNG bytes. A PNG that is not the one recorded is
// drawn again, and a changed spec gives a fresh render.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChartSpec, lineChart } from '../../../client/src/report/charts.js';
import { withFigureCache } from '../../../client/src/report/figure-cache.js';
import { writeFigure } from '../../../client/src/report/figures.js';

const spec = (last: number): ChartSpec => ({
  title: 'a figure',
  xLabel: 'x',
  yLabel: 'y',
  series: [
    {
      name: 'fmnist-cnn (no RS)',
      points: [
        [1, 1],
        [2, 3],
        [3, last],
      ],
    },
  ],
});

/** One report build of `dir` drawing one figure. */
const build = (dir: string, last: number) => withFigureCache(dir, async () => writeFigure(dir, 'fig', 'a figure', '', await lineChart(spec(last))));

test('a rebuild on the same spec keeps the figure files; a changed PNG or spec is drawn again, as without the cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-figures-'));
  try {
    const files = () => ({ svg: readFileSync(join(dir, 'fig.svg'), 'utf8'), png: readFileSync(join(dir, 'fig.png')) });
    await build(dir, 2);
    const first = files();
    assert.equal(first.svg, await lineChart(spec(2)), 'what a render gives');
    const written = statSync(join(dir, 'fig.png')).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await build(dir, 2);
    assert.deepEqual(files(), first);
    assert.equal(statSync(join(dir, 'fig.png')).mtimeMs, written, 'not written again');

    writeFileSync(join(dir, 'fig.png'), 'not the PNG');
    await build(dir, 2);
    assert.deepEqual(files(), first, 'a PNG other than the recorded one is drawn again');

    await build(dir, 5);
    const changed = files();
    assert.notEqual(changed.svg, first.svg);
    assert.equal(changed.svg, await lineChart(spec(5)), 'a changed spec is rendered');
    assert.ok(!changed.png.equals(first.png));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
