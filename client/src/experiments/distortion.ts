// Experiment 1 (paper Fig. 5): distortion vs accuracy. For each model and RS setting (σ, n) and
// confidence level P_a, each attack runs on the same test images with up to `budget` queries
// against an oracle that answers "adversarial at level P_a":
//  - σ = 0: the plain top-1 endpoint (client key);
//  - σ > 0, 'shortcut': the paper's simulation, ⌈n·P_a⌉ wrong micro-decisions (evaluator votes);
//  - σ > 0, 'repeated': the realistic attacker, ℓ paid top-1 queries per point (client key).
// Each final point is then assessed: eq. (4) from fresh votes, beside the eq. (5) threshold.
import { ATTACKS, type AttackName } from '../attacks/index.js';
import { CountingOracle, type Oracle } from '../oracle.js';
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { type AttackStats, attackStats, l2At, mean, median } from '../summary.js';
import { RepeatedOracle, ShortcutOracle, assessPoint, type PointAssessment, type VoteCounter } from './confidence.js';
import { type ExperimentContext, ResultsFile, deploymentFor, inputsFor, pool } from './context.js';
import { type Figure, writeCsv, writeFigure } from './figures.js';
import { lineChart, type Series } from '../report/charts.js';

export interface DistortionConfig {
  /** Models and σ (0: no RS). */
  settings: { model: string; sigma: number }[];
  /** n for σ > 0 (σ = 0 runs once, n = 1). */
  ns: number[];
  Pas: number[];
  /** Levels after the first run only for n up to this (each level is a full run; default: every n). */
  extraPaMaxN?: number;
  attacks: AttackName[];
  budget: number;
  images: number;
  /** Fresh votes to assess each final point (eq. 4). */
  assessSamples: number;
  /** The realistic variant, on a subset: ℓ top-1 queries per point. */
  repeated?: { settings: { model: string; sigma: number }[]; ns: number[]; Pas: number[]; repeats: number };
  /** Reported distortion-vs-queries checkpoints. */
  checkpoints?: number[];
}

export interface DistortionRecord {
  key: string;
  model: string;
  sigma: number;
  n: number;
  Pa: number | null;
  oracle: 'plain' | 'shortcut' | 'repeated';
  repeats: number;
  attack: string;
  image: number;
  label: number;
  misclassified: boolean;
  success: boolean;
  l2: number | null;
  linf: number | null;
  queries: number;
  badQueries: number;
  history: [number, number][];
  stopReason: string;
  wallMs: number;
  assessment: PointAssessment | null;
}

interface Task {
  model: string;
  sigma: number;
  n: number;
  Pa: number | null;
  oracle: DistortionRecord['oracle'];
  repeats: number;
  attack: AttackName;
  image: number;
}

export function distortionTasks(c: DistortionConfig): Task[] {
  const tasks: Task[] = [];
  const add = (model: string, sigma: number, n: number, Pa: number | null, oracle: Task['oracle'], repeats: number) => {
    for (const attack of c.attacks) for (let image = 0; image < c.images; image++) tasks.push({ model, sigma, n, Pa, oracle, repeats, attack, image });
  };
  for (const s of c.settings) {
    if (s.sigma === 0) add(s.model, 0, 1, null, 'plain', 1);
    else {
      for (const n of c.ns) {
        // With n = 1 every level P_a needs the single micro-decision wrong: one run covers them all.
        const levels = n === 1 ? [c.Pas[0]] : c.Pas.filter((_, i) => i === 0 || n <= (c.extraPaMaxN ?? Infinity));
        for (const Pa of levels) add(s.model, s.sigma, n, Pa, 'shortcut', 1);
      }
    }
  }
  for (const s of c.repeated?.settings ?? []) {
    for (const n of c.repeated!.ns) for (const Pa of c.repeated!.Pas) add(s.model, s.sigma, n, Pa, 'repeated', c.repeated!.repeats);
  }
  // Image by image: a sweep stopped halfway still compares every setting on the same images.
  return tasks.map((t, i) => [t, i] as const).sort((a, b) => a[0].image - b[0].image || a[1] - b[1]).map(([t]) => t);
}

const taskKey = (t: Task) => `${t.model}|${t.sigma}|${t.n}|${t.Pa}|${t.oracle}|${t.repeats}|${t.attack}|${t.image}`;

/** The records of a config's tasks (a results file may hold others, from an earlier, larger config). */
export function recordsOf(records: DistortionRecord[], c: DistortionConfig): DistortionRecord[] {
  const keys = new Set(distortionTasks(c).map(taskKey));
  return records.filter((r) => keys.has(r.key));
}

export async function runDistortion(ctx: ExperimentContext, c: DistortionConfig): Promise<DistortionRecord[]> {
  const file = new ResultsFile<DistortionRecord>(ctx.dir, 'distortion.jsonl');
  const tasks = distortionTasks(c);
  const oracles = new Map<string, HttpOracle>();
  const deployment = async (t: Task) => {
    const id = await deploymentFor(ctx, t.model, t.sigma, t.n);
    if (!oracles.has(id)) oracles.set(id, await HttpOracle.connect({ endpoint: ctx.endpoint, key: ctx.keys.client, deployment: id, connections: ctx.concurrency }));
    return { id, http: oracles.get(id)! };
  };
  // Deployments first, sequentially (the admin API is not a race).
  for (const t of tasks) await deployment(t);
  const ticker = new Ticker('distortion', tasks.length);
  try {
    await pool(tasks, ctx.concurrency, async (t) => {
      const key = taskKey(t);
      const done = file.get(key);
      if (done) return ticker.tick(`${key} (resumed)`, true);
      const { id, http } = await deployment(t);
      const votes: VoteCounter = async (inputs, count, n) => (await ctx.evaluator.votes(id, inputs, [count, ...http.inputShape], n)).counts;
      const { images } = await inputsFor(ctx, t.model, c.images);
      const x0 = images[t.image].values;
      const label = images[t.image].label!;
      let inner: Oracle = http;
      if (t.oracle === 'shortcut') inner = new ShortcutOracle(http, votes, label, t.n, t.Pa!);
      else if (t.oracle === 'repeated') inner = new RepeatedOracle(http, label, t.repeats, t.Pa!);
      const counting = new CountingOracle(inner, label, c.budget, undefined, t.repeats);
      const r = await ATTACKS[t.attack].run(counting, x0, { seed: 1000 * t.image + 17 });
      const misclassified = r.stopReason === 'misclassified';
      const assessment =
        t.sigma > 0 && r.success && !misclassified ? await assessPoint(votes, r.adversarial!, label, t.n, t.Pa ?? 0.5, c.assessSamples, t.image) : null;
      const record: DistortionRecord = {
        key,
        ...t,
        label,
        misclassified,
        success: r.success && !misclassified,
        l2: misclassified ? null : r.l2,
        linf: misclassified ? null : r.linf,
        queries: r.queries.total,
        badQueries: r.queries.bad,
        history: r.history,
        stopReason: r.stopReason,
        wallMs: Math.round(r.wallMs),
        assessment,
      };
      file.add(record);
      ticker.tick(`${t.model} σ=${t.sigma} n=${t.n} Pa=${t.Pa ?? '–'} ${t.oracle} ${t.attack} #${t.image}: ${misclassified ? 'misclassified' : record.success ? `L2 ${record.l2!.toFixed(3)}` : r.stopReason}`);
    });
  } finally {
    for (const o of oracles.values()) await o.close();
  }
  return recordsOf(file.all(), c);
}

export interface DistortionRow extends AttackStats {
  model: string;
  sigma: number;
  n: number;
  Pa: number | null;
  oracle: string;
  attack: string;
  /** Final points whose fresh eq. (4) probability reaches P_a. */
  assessedAtLevel: number | null;
  meanProbAdversarial: number | null;
}

export function summarizeDistortion(records: DistortionRecord[]): DistortionRow[] {
  const groups = new Map<string, DistortionRecord[]>();
  for (const r of records) {
    const k = `${r.model}|${r.sigma}|${r.n}|${r.Pa}|${r.oracle}|${r.attack}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const assessed = rs.filter((r) => !r.misclassified && r.assessment).map((r) => r.assessment!);
    const { model, sigma, n, Pa, oracle, attack } = rs[0];
    return {
      model, sigma, n, Pa, oracle, attack,
      ...attackStats(rs, (r) => r.queries),
      assessedAtLevel: assessed.length ? assessed.filter((a) => a.probAdversarial >= (Pa ?? 0.5)).length / assessed.length : null,
      meanProbAdversarial: mean(assessed.map((a) => a.probAdversarial)),
    };
  });
}

const settingName = (r: { model: string; sigma: number }) => (r.sigma === 0 ? `${r.model} (no RS)` : `${r.model} σ=${r.sigma}`);

export async function distortionFigures(dir: string, records: DistortionRecord[], c: DistortionConfig): Promise<Figure[]> {
  const rows = summarizeDistortion(records);
  writeCsv(dir, 'distortion-summary.csv', rows as unknown as Record<string, unknown>[]);
  const figures: Figure[] = [];
  // Fig. 5: per attack, median L2 against accuracy; one series per setting and P_a (points: n).
  for (const attack of c.attacks) {
    const series: Series[] = [];
    const sel = rows.filter((r) => r.attack === attack && r.oracle !== 'repeated' && r.medianL2 !== null);
    const groups = new Map<string, DistortionRow[]>();
    for (const r of sel) {
      const k = r.sigma === 0 ? settingName(r) : `${settingName(r)} Pa=${r.Pa}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const [name, rs] of groups) {
      rs.sort((a, b) => a.n - b.n);
      series.push({
        name,
        points: rs.map((r) => [r.accuracy, r.medianL2!]),
        labels: rs[0].sigma === 0 ? undefined : rs.map((r) => `n=${r.n}`),
        scatter: rs.length === 1,
        dashed: name.includes('Pa=0.8'),
      });
    }
    figures.push(
      await writeFigure(dir, `fig5-${attack}`, `${attack.toUpperCase()}: distortion vs accuracy`,
        `Median L2 of the adversarials (at level P_a) against the classifier's accuracy, ${c.images} images, ${c.budget} queries; along a line, n = ${c.ns.join(', ')}.`,
        await lineChart({ title: `${attack}: median L2 vs accuracy (points along a line: n = ${c.ns.join(', ')})`, xLabel: 'accuracy of the smoothed classifier', yLabel: 'median L2 distortion', series, xRange: [0, 1.04], width: 760 })),
    );
  }
  // Distortion vs queries: median over images of the best L2 within q queries, per setting at the largest n, Pa = first.
  const checkpoints = c.checkpoints ?? [100, 200, 300, 500, 750, 1000, 1500, 2000].filter((q) => q <= c.budget);
  const nMax = Math.max(...c.ns);
  for (const attack of c.attacks) {
    const series: Series[] = [];
    for (const s of c.settings) {
      const rs = records.filter((r) => r.attack === attack && r.model === s.model && r.sigma === s.sigma && r.oracle !== 'repeated' && (s.sigma === 0 || (r.n === nMax && r.Pa === c.Pas[0])) && !r.misclassified);
      if (rs.length === 0) continue;
      series.push({ name: settingName(s), points: checkpoints.map((q) => [q, median(rs.map((r) => l2At(r, q) ?? Infinity).filter(Number.isFinite)) ?? NaN]) });
    }
    figures.push(
      await writeFigure(dir, `queries-${attack}`, `${attack.toUpperCase()}: distortion vs queries`,
        `Median best L2 within q queries (images the attack could start on), RS at n = ${nMax}, P_a = ${c.Pas[0]}.`,
        await lineChart({ title: `${attack}: median L2 vs queries (RS n=${nMax}, Pa=${c.Pas[0]})`, xLabel: 'queries', yLabel: 'median L2 distortion', series, width: 760 })),
    );
  }
  return figures;
}
