// npm run demo: the whole story in about 70 s (demo-plan.ts: what runs; --full: everything).
// Starts the server on its embedded default config, attacks a few shipped test images over HTTP,
// against the undefended CNN and against randomized smoothing (σ = 0.25, n = 100, standard and
// noise-trained models), and prints one comparison table.
import { rmSync } from 'node:fs';
import { UsageError, usageExit } from './cli/args.js';
import { runCampaign } from './campaign.js';
import { DEMO_DEPLOYMENTS, DEMO_HELP, demoPlan } from './demo-plan.js';
import { loadInputs } from './inputs.js';
import { HttpOracle } from './oracle-http.js';
import { Progress, formatSeconds } from './progress.js';
import type { AttackRecord } from './record.js';
import { startServer } from './server-process.js';
import { summarize, summaryTable } from './summary.js';
import { disclosedRandomness } from './randomness.js';

let plan: ReturnType<typeof demoPlan>;
try {
  plan = demoPlan(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.exit(usageExit('npm run demo', err.message));
}
if (plan.help) {
  process.stdout.write(DEMO_HELP);
  process.exit(0);
}
const { images: count, budget, attacks, out } = plan;

const t0 = Date.now();
process.stderr.write('starting the server on the default config…\n');
const server = await startServer();
process.stderr.write(`server ready at ${server.url} (${formatSeconds((Date.now() - t0) / 1000)})\n`);
rmSync(out, { force: true });
const records: AttackRecord[] = [];
try {
  for (const deployment of DEMO_DEPLOYMENTS) {
    const oracle = await HttpOracle.connect({ endpoint: server.url, key: server.keys.client, deployment });
    const s = oracle.info.smoothing;
    process.stderr.write(`\n${deployment}: ${oracle.info.model}${s && s.sigma > 0 ? `, RS σ=${s.sigma} n=${s.n}` : ', no defence'}\n`);
    const images = await loadInputs({ source: 'sample', count }, { shape: oracle.inputShape, range: oracle.range, dataset: oracle.info.dataset });
    for (const attack of attacks) {
      const progress = new Progress(`  ${attack.padEnd(7)}`, images.length, budget);
      const random = disclosedRandomness(oracle.info);
      const spec = {
        oracle,
        endpoint: server.url,
        deployment,
        attack,
        budget,
        images,
        concurrency: 3,
        out,
        endpointRandomness: random === null ? ('undisclosed' as const) : random ? ('disclosed-random' as const) : ('disclosed-deterministic' as const),
        // Each adversarial asked 5 more times where the answers are random: the table's "confirmed".
        confirm: random === false ? 0 : 5,
      };
      records.push(...(await runCampaign(spec, progress.onEvent)));
      progress.finish();
    }
    await oracle.close();
  }
} finally {
  await server.stop();
}
process.stdout.write(`\n${summaryTable(summarize(records))}\n`);
process.stdout.write(
  `\n${count} shipped test images, ${attacks.length} attacks, ${budget} queries per attack; "accuracy": original answered correctly; ` +
    `"success"/L2 over those. Under RS an "adversarial" is a point answered wrongly once ("confirmed": how\n` +
    `often 5 fresh answers on it were wrong); the noise-aware attacks and the experiments (rs-arena experiment)\n` +
    `give points adversarial at the paper's confidence level P_a (npm run demo -- --full: every attack). Results: ${out} ` +
    `(${formatSeconds((Date.now() - t0) / 1000)} in all)\n`,
);
