// The audit's report card: one self-contained HTML page (figures inlined as SVG, drawn by
// Vega-Lite through report/charts.ts) beside audit.json: what was asked of whom, clean accuracy as
// the endpoint answers it, whether its answers are random, per ε the success rate within the
// budget, the queries for 10/50/90% success and the recommended per-key budget, the success-vs-
// queries curves with their 95% intervals, and per image the best attacker.
import type { TopLevelSpec } from 'vega-lite';
import { classColor } from '../report/colors.js';
import { FONT_FAMILY } from '../report/fonts.js';
import { renderSvg, scopeIds } from '../report/charts.js';
import { esc } from '../report/table.js';
import type { AuditSummary } from './audit.js';

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const ci = (i: [number, number] | null) => (i ? `[${pct(i[0])}, ${pct(i[1])}]` : '');
const num = (q: number | null) => (q === null ? '> budget' : q.toLocaleString('en-US'));

function curveSpec(s: AuditSummary): TopLevelSpec {
  const rows = s.epsilons.flatMap((e) => e.curve.map((p) => ({ eps: `ε = ${e.epsilon}`, q: p.queries, rate: p.rate, lo: p.interval[0], hi: p.interval[1] })));
  const names = s.epsilons.map((e) => `ε = ${e.epsilon}`);
  // ε values in their order: the categorical palette by index (colors.ts), the same in every audit.
  const color = { field: 'eps', type: 'nominal', title: 'L2 bound', scale: { domain: names, range: names.map((_, i) => classColor(i)) } } as const;
  const x = {
    field: 'q',
    type: 'quantitative',
    title: 'queries per image (the best attacker of the battery)',
    scale: { type: 'log', domain: [1, s.budget], nice: false },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 320,
    config: {
      font: FONT_FAMILY,
      background: 'white',
      padding: 8,
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e5e5e5' },
      legend: { labelFontSize: 11, titleFontSize: 12, symbolOpacity: 1, symbolStrokeWidth: 2.5 },
    },
    data: { values: rows },
    layer: [
      {
        mark: { type: 'area', opacity: 0.15, interpolate: 'step-after' },
        encoding: {
          x,
          y: { field: 'lo', type: 'quantitative', title: 'attack success rate', scale: { domain: [0, 1] }, axis: { format: '%' } },
          y2: { field: 'hi' },
          color: { ...color, legend: { symbolType: 'stroke' } },
        },
      },
      {
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: { x, y: { field: 'rate', type: 'quantitative' }, color: { ...color, legend: { symbolType: 'stroke' } } },
      },
      {
        data: { values: [{ r: s.targetRate }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { y: { field: 'r', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

export async function auditHtml(s: AuditSummary): Promise<string> {
  const svg = scopeIds(await renderSvg(curveSpec(s), `audit-${s.deployment}`), 'fig-curves-');
  const eps = s.epsilons;
  const rows = eps.map(
    (e) =>
      `<tr><td>${e.epsilon}</td><td>${e.attacked}</td><td>${e.broken} (${pct(e.successRate)}) ${ci(e.interval)}</td>${e.queriesFor.map((q) => `<td>${num(q.queries)}</td>`).join('')}<td>${e.recommendedBudget.atLeast ? '≥ ' : ''}${num(e.recommendedBudget.budget)}</td><td>${pct(e.recommendedBudget.rate)} ${ci(e.recommendedBudget.interval)}</td><td>${e.confidentBudget ? `${e.confidentBudget.atLeast ? '≥ ' : ''}${num(e.confidentBudget.budget)} (upper bound ${pct(e.confidentBudget.upper)})` : `none: ${e.attacked} images cannot show it`}</td></tr>`,
  );
  const images = s.images.map(
    (v) =>
      `<tr><td>${esc(v.image)}</td><td>${v.trueLabel ?? '–'}</td><td>${v.cleanLabel}</td><td>${v.correct ? 'yes' : 'no'}</td><td>${v.bestL2 === null ? '–' : v.bestL2.toFixed(3)}</td><td>${esc(v.bestL2Attacker ?? '–')}</td>${eps.map((_, i) => `<td>${v.correct ? `${num(v.queriesNeeded[i])}${v.bestAttacker[i] ? ` (${esc(v.bestAttacker[i]!)})` : ''}` : 'clean miss'}</td>`).join('')}</tr>`,
  );
  const r = s.randomness;
  const failed = s.gateFailed?.length ? s.gateFailed : null;
  const gate =
    s.failAbove === null
      ? ''
      : `<p class="${failed ? 'bad' : 'good'}"><b>Gate:</b> success within the budget ${failed ? 'exceeds' : 'stays at or under'} ${pct(s.failAbove)} at ${failed ? `ε = ${failed.join(', ')}` : 'every ε'}.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rs-arena audit: ${esc(s.deployment)}</title>
<style>
body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
table{border-collapse:collapse;font-size:12px;margin:1em 0 .3em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{margin:1.5em 0}figure svg{display:block;max-width:100%;height:auto}figcaption{font-size:13px;color:#444;max-width:760px}
.bad{color:#b42318}.good{color:#1a7f37}code{background:#f5f5f5;padding:1px 4px}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}
</style></head><body>
<h1>rs-arena audit: ${esc(s.deployment)}</h1>
<dl>
<dt>endpoint</dt><dd><code>${esc(s.endpoint)}</code> (${esc(s.protocol)}, inputs as ${esc(s.encoding)}): ${esc(s.banner)}</dd>
<dt>command</dt><dd><code>${esc(s.command)}</code></dd>
<dt>finished</dt><dd>${esc(s.finishedAt)}; ${s.queries.toLocaleString('en-US')} queries to the endpoint in all</dd>
<dt>clean accuracy</dt><dd>${s.clean.correct} of ${s.clean.images} images answered correctly (${pct(s.clean.accuracy)}) ${ci(s.clean.interval)}${s.clean.labelled ? '' : " (no true labels: the endpoint's answers are the labels)"}</dd>
<dt>answers random?</dt><dd>${r.random ? '<b>yes</b>' : 'no'}: ${r.evidence.points} boundary points asked ${r.evidence.repeats} times each; the most common answer's share per point: ${r.evidence.agreement.map((a) => pct(a)).join(', ') || '–'} (${r.evidence.queries} queries)</dd>
<dt>battery</dt><dd>${s.battery.map((a) => `<code>${esc(a)}</code>`).join(', ')} (${r.random ? 'noise-aware: the answers are random' : 'deterministic answers'}), ${s.budget.toLocaleString('en-US')} queries per attack and image; per image the best attacker counts, as in AutoAttack</dd>
</dl>
${gate}
<h2>Success against queries</h2>
<table><thead><tr><th>L2 bound ε</th><th>attacked</th><th>broken within the budget (95% CI)</th>${s.epsilons[0]?.queriesFor.map((q) => `<th>queries for ${100 * q.level}% success</th>`).join('') ?? ''}<th>per-key budget for ≤ ${pct(s.targetRate)} success on these images</th><th>success at that budget (95% CI)</th><th>per-key budget with success ≤ ${pct(s.targetRate)} at 95% confidence (the one to set)</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<p>Success: the share of the correctly answered images where some attacker of the battery returned an adversarial within L2 ε (pixel values in [0, 1]) using at most that many queries. Intervals are two-sided 95% Clopper-Pearson. The recommended budget is the largest per-key budget at which at most ⌊rate·n⌋ of these images broke; "≥" when even the audit's budget stays under the rate. It is a point estimate from these images; the last column is the largest budget whose success stays at or under the rate with 95% confidence (one-sided Clopper-Pearson upper bound), which needs enough images: with none broken of n, the bound is 1 − 0.05<sup>1/n</sup>, at most 10% only from n = 29. Check either on held-out images (a second audit with <code>--budget</code> set to it and other images).</p>
<figure id="fig-curves">${svg}<figcaption><b>Attack success rate against queries, per L2 bound.</b> Lines: the share of attacked images broken within q queries by the best attacker of the battery; bands: 95% Clopper-Pearson intervals; dashed: the chosen rate ${pct(s.targetRate)}.</figcaption></figure>
<h2>Per image</h2>
<table><thead><tr><th>image</th><th>true label</th><th>endpoint's answer</th><th>correct</th><th>best L2</th><th>by</th>${eps.map((e) => `<th>queries to ε = ${e.epsilon} (by)</th>`).join('')}</tr></thead><tbody>
${images.join('\n')}
</tbody></table>
</body></html>
`;
}
