// The attack client's quality bars (issue 4), measured over real HTTP against the default server:
// on a shipped model (default: the standard CNN) without RS and with RS σ = 0.25 at n = 1, 10, 100, each attack on the same
// test images with 2,000 queries; success on the correctly classified images, mean and median L2
// at 500, 1,000 and 2,000 queries, and the client's own CPU time per query beside the server's.
// Targets (docs/attack-quality.md; exit code 1 when one is missed): every attack succeeds on every
// image the endpoint answers correctly, in every setting; without RS its median L2 falls from the
// first checkpoint to the budget; the client's CPU per query stays below the server's without RS.
//   npm run quality -- [--model fmnist-cnn] [--images 100] [--budget 2000] [--ns 1,10,100] [--out out/quality]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerAdmin } from '../client/src/admin.js';
import { ATTACK_NAMES } from '../client/src/attacks/index.js';
import { runCampaign } from '../client/src/campaign.js';
import { loadInputs } from '../client/src/inputs.js';
import { HttpOracle } from '../client/src/oracle-http.js';
import { Progress } from '../client/src/progress.js';
import { startServer } from '../client/src/server-process.js';
import { formatTable, l2At, mean, median } from '../client/src/summary.js';
import { Targets } from './targets.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run quality -- [options]', {
  images: { type: 'string', default: '100' },
  budget: { type: 'string', default: '2000' },
  out: { type: 'string', default: 'out/quality' },
  concurrency: { type: 'string', default: '4' },
  ns: { type: 'string', default: '1,10,100' },
  model: { type: 'string', default: 'fmnist-cnn' },
});
const budget = Number(args.budget);
const checkpoints = [500, 1000, 2000].filter((q) => q <= budget);
mkdirSync(args.out, { recursive: true });
const resultsFile = join(args.out, 'results.jsonl');

const server = await startServer();
const admin = new ServerAdmin(server.url, server.keys.admin);
const deployments: { id: string; label: string }[] = [];
await admin.ensureDeployment({ id: `quality-${args.model}`, model: args.model, sigma: 0, n: 1 });
deployments.push({ id: `quality-${args.model}`, label: 'no RS' });
for (const n of args.ns.split(',').map(Number)) {
  const id = `quality-${args.model}-s025-n${n}`;
  await admin.ensureDeployment({ id, model: args.model, sigma: 0.25, n, seed: 1000 + n, maxBatch: 1024 });
  deployments.push({ id, label: `RS σ=0.25 n=${n}` });
}

const rows: Record<string, unknown>[] = [];
try {
  for (const d of deployments) {
    const oracle = await HttpOracle.connect({ endpoint: server.url, key: server.keys.client, deployment: d.id, connections: Number(args.concurrency) });
    const images = await loadInputs(
      { source: 'sample', count: Number(args.images) },
      { shape: oracle.inputShape, range: oracle.range, dataset: 'fashion-mnist' },
    );
    for (const attack of ATTACK_NAMES) {
      const progress = new Progress(`${d.label} ${attack}`, images.length, budget);
      const cpu0 = process.cpuUsage();
      const server0 = server.cpuMs();
      let fresh = 0; // queries of images attacked now (resumed ones have no CPU measurement)
      const records = await runCampaign(
        { oracle, endpoint: server.url, deployment: d.id, attack, budget, images, concurrency: Number(args.concurrency), out: resultsFile, saveDir: null },
        (e) => {
          if (e.type === 'done') fresh += e.record.queries.total;
          progress.onEvent(e);
        },
      );
      progress.finish();
      const cpu = process.cpuUsage(cpu0);
      const serverCpu = server.cpuMs() - server0;
      const attacked = records.filter((r) => !r.misclassified);
      const queries = records.reduce((s, r) => s + r.queries.total, 0);
      const row: Record<string, unknown> = {
        deployment: d.id,
        setting: d.label,
        attack,
        images: records.length,
        accuracy: attacked.length / records.length,
        success: attacked.length ? attacked.filter((r) => r.success).length / attacked.length : null,
        queries,
        // CPU time per query, both processes over the same queries (resumed images excluded).
        clientCpuMsPerQuery: fresh ? (cpu.user + cpu.system) / 1000 / fresh : null,
        serverCpuMsPerQuery: fresh ? serverCpu / fresh : null,
      };
      for (const q of checkpoints) {
        const at = attacked.map((r) => l2At(r, q));
        row[`success@${q}`] = attacked.length ? at.filter((v) => v !== null).length / attacked.length : null;
        const ok = at.filter((v): v is number => v !== null);
        row[`meanL2@${q}`] = mean(ok);
        row[`medianL2@${q}`] = median(ok);
      }
      rows.push(row);
    }
    await oracle.close();
  }
} finally {
  await admin.close();
  await server.stop();
}
writeFileSync(join(args.out, 'summary.json'), JSON.stringify(rows, null, 2));
const headers = ['setting', 'attack', 'accuracy', ...checkpoints.flatMap((q) => [`succ@${q}`, `mean@${q}`, `median@${q}`]), 'client ms/q', 'server ms/q'];
const cell = (v: unknown) => (typeof v === 'number' ? v : null);
process.stdout.write(
  formatTable(
    headers,
    rows.map((r) => [
      r.setting as string,
      r.attack as string,
      cell(r.accuracy),
      ...checkpoints.flatMap((q) => [cell(r[`success@${q}`]), cell(r[`meanL2@${q}`]), cell(r[`medianL2@${q}`])]),
      cell(r.clientCpuMsPerQuery),
      cell(r.serverCpuMsPerQuery),
    ]),
  ) + '\n',
);

const targets = new Targets();
for (const r of rows) {
  const where = `${r.setting as string} ${r.attack as string}`;
  if (r.success !== null) targets.check(r.success === 1, `${where}: success ${(100 * (r.success as number)).toFixed(0)}% of the attacked images (target 100%)`);
  if (r.setting === 'no RS') {
    const [first, last] = [r[`medianL2@${checkpoints[0]}`] as number | null, r[`medianL2@${checkpoints.at(-1)}`] as number | null];
    if (checkpoints.length > 1 && first !== null && last !== null)
      targets.check(
        last < first,
        `${where}: median L2 ${first.toFixed(3)} at ${checkpoints[0]} → ${last.toFixed(3)} at ${checkpoints.at(-1)} queries (target: falls)`,
      );
    const [c, sv] = [r.clientCpuMsPerQuery as number | null, r.serverCpuMsPerQuery as number | null];
    if (c !== null && sv !== null)
      targets.check(c < sv, `${where}: client CPU ${c.toFixed(3)} ms/query vs server ${sv.toFixed(3)} (target: below the server's)`);
  }
}
targets.finish();
