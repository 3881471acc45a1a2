// Measures the shared budget: 64 clients racing one budget across two server processes on one
// Redis, then the same race with one replica killed by SIGKILL mid-way. Prints JSON (and writes it
// with --out FILE). Needs redis-server on the PATH.
//   npx tsx scripts/race-replicas.ts [--budget 2000] [--clients 64] [--out race.json]
import { writeFileSync } from 'node:fs';
import { startRedis } from '../test/helpers/redis.js';
import { race, startReplicas } from '../test/helpers/replicas.js';
import { scriptArgs } from './args.js';

const values = scriptArgs('tsx scripts/race-replicas.ts [options]', {
  budget: { type: 'string', default: '2000' },
  clients: { type: 'string', default: '64' },
  out: { type: 'string' },
});
const budget = Number(values.budget);
const clients = Number(values.clients);

async function run(kill: boolean) {
  const redis = await startRedis();
  const replicas = await startReplicas(redis.url, 2, budget);
  try {
    const [victim] = replicas.servers;
    return await race(
      redis.url,
      replicas.servers.map((s) => s.url),
      {
        clients,
        budget,
        ...(kill ? { afterQueries: Math.floor(budget / 3), during: () => void victim.child.kill('SIGKILL') } : {}),
      },
    );
  } finally {
    await replicas.stop();
    await redis.destroy();
  }
}

const result = { twoReplicas: await run(false), sigkillOneReplica: await run(true) };
const json = JSON.stringify(result, null, 2);
console.log(json);
if (values.out) writeFileSync(values.out, json + '\n');
