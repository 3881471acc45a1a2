// The shortcut oracle's forward passes with and without the evaluator's early-stopping votes, over
// real HTTP against a server process: the same attacks on the same images and deployment, each run
// once with every point's n votes drawn in full and once stopping each point as soon as ⌈n·P_a⌉
// votes are wrong or can no longer be. Passes are the server's count for the evaluator key
// (GET /v1/usage). The verdicts' distribution is the same (the decision is the full vote's); the
// noise stream differs, so individual runs differ. Target (exit code 1 when missed): fewer passes.
//
//   npx tsx --conditions=rs-arena-source scripts/bench-shortcut.ts [--model fmnist-cnn] [--sigma 0.05]
//     [--n 100] [--Pa 0.5] [--images 4] [--budget 300] [--attacks rays,hsja] [--out out/bench-shortcut.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ServerAdmin } from '../client/src/admin.js';
import { runAttack } from '../client/src/attack-run.js';
import { type AttackName, isAttackName } from '../client/src/attacks/index.js';
import { ShortcutOracle, type VoteCounter } from '../client/src/experiments/confidence.js';
import { loadInputs } from '../client/src/inputs.js';
import { HttpOracle } from '../client/src/oracle-http.js';
import { startServer } from '../client/src/server-process.js';
import { formatTable, median } from '../client/src/summary.js';
import { Targets } from './targets.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('tsx scripts/bench-shortcut.ts [options]', {
  model: { type: 'string', default: 'fmnist-cnn' },
  sigma: { type: 'string', default: '0.05' },
  n: { type: 'string', default: '100' },
  Pa: { type: 'string', default: '0.5' },
  images: { type: 'string', default: '4' },
  budget: { type: 'string', default: '300' },
  attacks: { type: 'string', default: 'rays,hsja' },
  out: { type: 'string', default: 'out/bench-shortcut.json' },
});
const [sigma, n, Pa, budget] = [Number(args.sigma), Number(args.n), Number(args.Pa), Number(args.budget)];
const attacks = args.attacks.split(',').map((a) => {
  if (!isAttackName(a)) throw new Error(`unknown attack ${a}`);
  return a as AttackName;
});

const server = await startServer();
const admin = new ServerAdmin(server.url, server.keys.admin);
const evaluator = new ServerAdmin(server.url, server.keys.evaluator);
const id = 'bench-shortcut';
await admin.ensureDeployment({ id, model: args.model, sigma, n, seed: 7919, maxBatch: 4096 });
const http = await HttpOracle.connect({ endpoint: server.url, key: server.keys.client, deployment: id });
const images = await loadInputs({ source: 'sample', count: Number(args.images) }, { shape: http.inputShape, range: http.range, dataset: 'fashion-mnist' });
const passes = async () => (await evaluator.usage()).deployments.find((d) => d.deployment === id)?.forwardPasses ?? 0;
const votes: VoteCounter = async (inputs, count, m, stop) => (await evaluator.votes(id, inputs, [count, ...http.inputShape], m, stop)).counts;

const rows: Record<string, unknown>[] = [];
const targets = new Targets();
try {
  for (const attack of attacks) {
    const byMode: Record<string, { passes: number; points: number; l2: number[]; seconds: number }> = {};
    for (const earlyStop of [false, true]) {
      const mode = earlyStop ? 'early stop' : 'full votes';
      const before = await passes();
      const t0 = performance.now();
      let points = 0;
      const l2: number[] = [];
      for (const [i, img] of images.entries()) {
        const oracle = new ShortcutOracle(http, votes, img.label!, n, Pa, earlyStop);
        const r = await runAttack({ oracle, attack, x0: img.values, label: img.label!, budget, seed: 1000 * i + 17 });
        points += r.run.queries.total;
        if (r.run.success && r.run.l2 !== null) l2.push(r.run.l2);
      }
      byMode[mode] = { passes: (await passes()) - before, points, l2, seconds: (performance.now() - t0) / 1000 };
      rows.push({
        attack,
        mode,
        images: images.length,
        points,
        passes: byMode[mode].passes,
        passesPerPoint: byMode[mode].passes / Math.max(1, points),
        medianL2: median(l2),
        seconds: byMode[mode].seconds,
      });
    }
    const [full, early] = [byMode['full votes'], byMode['early stop']];
    targets.check(
      early.passes / early.points < full.passes / full.points,
      `${attack}: ${(early.passes / early.points).toFixed(1)} passes per point with early stop vs ${(full.passes / full.points).toFixed(1)} without (target: fewer)`,
    );
  }
} finally {
  await http.close();
  await admin.close();
  await evaluator.close();
  await server.stop();
}
console.log(`${args.model} σ=${sigma} n=${n} P_a=${Pa}, ${images.length} images, ${budget} points per attack: evaluator forward passes`);
console.log(
  formatTable(
    ['attack', 'mode', 'images', 'points', 'passes', 'passes/point', 'median L2', 'seconds'],
    rows.map((r) => [
      r.attack as string,
      r.mode as string,
      r.images as number,
      r.points as number,
      r.passes as number,
      r.passesPerPoint as number,
      r.medianL2 as number | null,
      r.seconds as number,
    ]),
  ),
);
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify({ model: args.model, sigma, n, Pa, budget, rows }, null, 2));
targets.finish();
