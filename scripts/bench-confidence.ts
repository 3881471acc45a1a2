// The figures of "attacks that beat RS with top-1 answers only" (issue 12), in one place:
//  1. From a results folder's query-cost experiment (confidence-cost.jsonl): per setting and n, the
//     best noise-aware attacker's share of final points adversarial at level P_a by fresh votes
//     (target ≥ 90%), its median L2 at 10,000 top-1 queries ÷ the best shortcut attack's at its
//     budget (target ≤ 1.1), and what the runs cost (top-1 queries, forward passes, attack time).
//  2. Live, in-process: every noise-aware attack of the registry under RS at n = 1 (each answer one
//     noisy forward pass) on a few images: it must neither crash, hang (a time limit) nor spend
//     more than its budget.
// Prints both and writes JSON.
//
//   npm run bench:confidence -- [--results results/paper-fmnist] [--n1-images 3] [--n1-budget 2000]
//     [--n1-sigma 0.1] [--timeout-s 300] [--out out/bench-confidence.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCatalog, loadSample } from '@rs-arena/shared/catalog';
import { ATTACK_NAMES, ATTACKS, decidesAtLevel } from '../client/src/attacks/index.js';
import type { Attack } from '../client/src/attacks/attack.js';
import { confidenceCost } from '../client/src/experiments/records/confidence-cost.js';
import { CountingOracle } from '../client/src/oracle.js';
import { reportContext } from '../client/src/report/report.js';
import { bestNoiseAware, bestShortcut, confidenceCostFindings, summarizeCost } from '../client/src/report/sections/confidence-cost.js';
import { formatTable } from '../client/src/summary.js';
import { LocalOracle } from '../test/helpers/oracle-local.js';
import { Targets } from './targets.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run bench:confidence -- [options]', {
  results: { type: 'string', default: 'results/paper-fmnist' },
  'n1-images': { type: 'string', default: '3' },
  'n1-budget': { type: 'string', default: '2000' },
  'n1-sigma': { type: 'string', default: '0.1' },
  'timeout-s': { type: 'string', default: '300' },
  out: { type: 'string', default: 'out/bench-confidence.json' },
});
const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(0)}%`);
const out: Record<string, unknown> = {};
const targets = new Targets();

// 1. The experiment's figures.
const { ctx } = reportContext(args.results);
const config = ctx.config(confidenceCost);
const records = ctx.records(confidenceCost);
if (!config || records.length === 0) console.log(`${args.results}: no query-cost runs (run: rs-arena experiment --preset paper-fmnist --only confidence-cost)`);
else {
  const rows = summarizeCost(records, config.Pa);
  const best = bestNoiseAware(rows);
  const table = best.map((b) => {
    const s = bestShortcut(rows, b);
    const ratio = b.medianL2At10000 !== null && s?.medianL2 ? b.medianL2At10000 / s.medianL2 : null;
    return {
      model: b.model,
      sigma: b.sigma,
      n: b.n,
      attacker: b.attacker,
      attacked: b.attacked,
      atLevel: b.atLevel,
      medianL2At10000: b.medianL2At10000,
      shortcut: s?.attacker ?? null,
      shortcutL2: s?.medianL2 ?? null,
      shortcutAtLevel: s?.atLevel ?? null,
      ratio,
    };
  });
  console.log(`${args.results}: the best noise-aware attacker per setting (P_a = ${config.Pa}); targets: at level ≥ 90%, L2 @10k ÷ shortcut ≤ 1.1`);
  console.log(
    formatTable(
      ['setting', 'n', 'attacker', 'attacked', 'at level', 'L2 @10k', `shortcut @${config.shortcut.budget}`, 'its at level', 'ratio'],
      table.map((t) => [
        `${t.model} σ=${t.sigma}`,
        t.n,
        t.attacker,
        t.attacked,
        pct(t.atLevel),
        f3(t.medianL2At10000),
        `${t.shortcut ?? '–'} ${f3(t.shortcutL2)}`,
        pct(t.shortcutAtLevel),
        f3(t.ratio),
      ]),
    ),
  );
  // Cost: every top-1 query of a run is n forward passes; the shortcut's points are votes calls of n; assessing adds fresh votes.
  const passes = records.reduce((a, r) => a + r.queries.total * r.n + (r.assessment ? r.assessment.samples + r.n : 0), 0);
  const queries = records.reduce((a, r) => a + r.queries.total, 0);
  const attackHours = records.reduce((a, r) => a + r.wallMs, 0) / 3.6e6;
  console.log(
    `cost: ${records.length} runs, ${queries.toLocaleString('en')} top-1 queries, ${(passes / 1e6).toFixed(1)} M forward passes, ${attackHours.toFixed(1)} attack-hours (runs in flight at once share the machine)`,
  );
  for (const t of table) {
    const where = `${t.model} σ=${t.sigma} n=${t.n} ${t.attacker}`;
    targets.check((t.atLevel ?? 0) >= 0.9, `${where}: ${pct(t.atLevel)} of ${t.attacked} final points at level (target ≥ 90%)`);
    if (t.ratio !== null) targets.check(t.ratio <= 1.1, `${where}: median L2 @10k ÷ shortcut ${f3(t.ratio)} (target ≤ 1.1)`);
  }
  out.experiment = {
    results: args.results,
    Pa: config.Pa,
    best: table,
    rows,
    findings: confidenceCostFindings(records, config),
    cost: { runs: records.length, queries, passes, attackHours },
  };
}

// 2. Noise-aware attacks under RS at n = 1.
const sample = loadSample(loadCatalog());
const base = await LocalOracle.load('fmnist-cnn');
const sigma = Number(args['n1-sigma']);
const budget = Number(args['n1-budget']);
const timeoutMs = Number(args['timeout-s']) * 1000;
const images: number[] = [];
for (let i = 0; images.length < Number(args['n1-images']); i++)
  if ((await base.predict(sample.images.slice(i * 784, (i + 1) * 784), 1))[0] === sample.labels[i]) images.push(i);
const n1: Record<string, unknown>[] = [];
for (const name of ATTACK_NAMES.filter(decidesAtLevel)) {
  const attack = ATTACKS[name] as unknown as Attack;
  for (const i of images) {
    const counting = new CountingOracle(base.withSmoothing({ sigma, n: 1, seed: 31 + i }), sample.labels[i], budget);
    const started = performance.now();
    let outcome: string;
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        attack.run(counting, sample.images.slice(i * 784, (i + 1) * 784), { seed: i }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${args['timeout-s']} s`)), timeoutMs))),
      ]);
      outcome = r.stopReason === 'misclassified' ? 'x0 already adversarial at level (nothing to attack)' : r.success ? `L2 ${f3(r.l2)}` : r.stopReason;
    } catch (err) {
      outcome = `FAILED: ${(err as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
    const row = {
      attack: name,
      image: i,
      queries: counting.queries,
      budget,
      overspent: counting.queries > budget,
      seconds: (performance.now() - started) / 1000,
      outcome,
    };
    n1.push(row);
    console.log(
      `  n = 1, σ = ${sigma}: ${name.padEnd(12)} image ${String(i).padStart(3)}: ${String(row.queries).padStart(5)} / ${budget} queries, ${row.seconds.toFixed(1)} s, ${outcome}${row.overspent ? '  OVERSPENT' : ''}`,
    );
  }
}
const bad = n1.filter((r) => r.overspent || String(r.outcome).startsWith('FAILED'));
console.log(`n = 1: ${n1.length} runs, ${bad.length} crashed, hung or overspent`);
targets.check(bad.length === 0, `n = 1: ${bad.length} of ${n1.length} runs crashed, hung or overspent (target 0)`);
out.n1 = { sigma, budget, runs: n1, failures: bad.length };
await base.close();

mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(out, null, 2));
console.log(`written: ${join(args.out)}`);
targets.finish();
