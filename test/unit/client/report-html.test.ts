// report.html's parts: tables with readable headers, a definition per column and sorted rows;
// figures inlined with ids of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figureHtml, reportHtml } from '../../../client/src/report/html.js';
import { COLUMNS, sortRows, table } from '../../../client/src/report/table.js';

test('tables: a readable header and a definition per column, rows sorted by setting, attack, n, P_a', () => {
  const rows = [
    { model: 'fmnist-cnn', sigma: 0.25, n: 10, Pa: 0.5, oracle: 'shortcut', attack: 'hsja', accuracy: 0.3, medianL2: 4.4321 },
    { model: 'fmnist-cnn', sigma: 0.05, n: 100, Pa: 0.5, oracle: 'shortcut', attack: 'rays', accuracy: 0.86, medianL2: 1.39 },
    { model: 'fmnist-cnn', sigma: 0, n: 1, Pa: null, oracle: 'plain', attack: 'hsja', accuracy: 0.9, medianL2: 1.05 },
    { model: 'fmnist-cnn', sigma: 0.05, n: 10, Pa: 0.8, oracle: 'shortcut', attack: 'rays', accuracy: 0.84, medianL2: 1.87 },
    { model: 'fmnist-cnn', sigma: 0.05, n: 10, Pa: 0.5, oracle: 'shortcut', attack: 'rays', accuracy: 0.86, medianL2: 1.65 },
    { model: 'fmnist-cnn', sigma: 0.05, n: 1, Pa: 0.5, oracle: 'shortcut', attack: 'hsja', accuracy: 0.84, medianL2: 3.18 },
  ];
  const sorted = sortRows(rows).map((r) => `${r.sigma}/${r.attack}/${r.n}/${r.Pa}`);
  assert.deepEqual(sorted, ['0/hsja/1/null', '0.05/hsja/1/0.5', '0.05/rays/10/0.5', '0.05/rays/10/0.8', '0.05/rays/100/0.5', '0.25/hsja/10/0.5']);

  const html = table(rows, { accuracy: 'a definition for this table only' });
  const headers = [...html.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(headers, ['model', 'σ', 'n', 'P_a', 'oracle', 'attack', 'accuracy', 'median L2']);
  const legend = /<p class="legend">(.*)<\/p>/.exec(html)![1];
  for (const k of ['model', 'sigma', 'n', 'Pa', 'oracle', 'attack', 'medianL2']) assert.ok(legend.includes(`<b>${COLUMNS[k].label}</b>`), `${k} defined`);
  assert.match(legend, /<b>accuracy<\/b>: a definition for this table only/);
  const firstRow = /<tbody>\n<tr>(.*?)<\/tr>/.exec(html)![1];
  assert.equal(firstRow, '<td>fmnist-cnn</td><td>0</td><td>1</td><td>–</td><td>plain</td><td>hsja</td><td>90.0%</td><td>1.050</td>');
  assert.equal(table([]), '<p>(no rows)</p>');
});

test('figures inlined in a page keep their ids apart, even two copies of one SVG', () => {
  const svg = '<svg width="10" height="10"><defs><clipPath id="f1-1"><rect/></clipPath></defs><g clip-path="url(#f1-1)"/></svg>';
  const fig = (name: string) => ({ name, title: name, caption: 'c', svg: `${name}.svg`, png: `${name}.png` });
  const page = reportHtml({
    name: 'p',
    description: 'd',
    runs: [{ command: 'rs-arena report', startedAt: 'now' }],
    findings: [],
    sections: [{ title: 's', html: '', figures: [fig('a'), fig('b')] }],
    svgOf: () => svg,
  });
  const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(ids, ['fig-a', 'fig-a-f1-1', 'fig-b', 'fig-b-f1-1']);
  assert.match(page, /clip-path="url\(#fig-a-f1-1\)"/);
  assert.match(page, /clip-path="url\(#fig-b-f1-1\)"/);
  assert.match(figureHtml(fig('x<y'), svg), /<figure id="fig-x&lt;y">/);
});

test('a finding with many cells shows the first three and folds the rest under <details>', () => {
  const cells = Array.from({ length: 8 }, (_, i) => `cell ${i} <b>`);
  const html = reportHtml({
    name: 'fold',
    description: 'd',
    runs: [{ command: 'rs-arena report', startedAt: 'now' }],
    findings: [
      { id: 'many', source: 'paper', claim: 'c', verdict: 'not established', n: 3, test: 't', evidence: cells.join('; ') },
      { id: 'few', source: 'paper', claim: 'c2', verdict: 'established', n: 12, test: 't2', evidence: 'one; two' },
    ],
    sections: [],
    svgOf: () => '',
  });
  assert.ok(
    html.includes('cell 0 &lt;b&gt;; cell 1 &lt;b&gt;; cell 2 &lt;b&gt;; <details><summary>5 more</summary><ul><li>cell 3 &lt;b&gt;</li>'),
    'first three inline, escaped',
  );
  assert.equal((html.match(/<li>cell \d/g) ?? []).length, 5);
  assert.ok(html.includes('>one; two<br>'), 'a short evidence stays as it is');
});
