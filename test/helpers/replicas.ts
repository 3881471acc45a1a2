// Server replicas as separate processes (as `npm start` runs them) on one Redis, and 64 clients
// racing one budget across them: the test (test/e2e/replicas.test.ts) and scripts/race-replicas.ts
// both use it. Each client loops on small batches until the budget refuses it, counting the queries
// it got answers for; the ledger in Redis is the server's count.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { startServer, type ServerProcess } from '../../client/src/server-process.js';
import { images } from './app.js';

export const RACE_KEYS = { admin: 'race-admin-key-0123456789', client: 'race-client-key-0123456789' };
const RACE_DEPLOYMENT = { id: 'rs', model: 'fmnist-cnn', sigma: 0.25, n: 10, seed: 3, maxBatch: 8 };

export interface Replicas {
  servers: ServerProcess[];
  stop(): Promise<void>;
}

export async function startReplicas(redisUrl: string, count: number, budget: number, deployments: object[] = [RACE_DEPLOYMENT]): Promise<Replicas> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-replicas-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ deployments, threads: 1 }));
  const env = { REDIS_URL: redisUrl, RS_ARENA_ADMIN_KEY: RACE_KEYS.admin, RS_ARENA_CLIENT_KEY: RACE_KEYS.client, RS_ARENA_CLIENT_BUDGET: String(budget) };
  const servers: ServerProcess[] = [];
  for (let i = 0; i < count; i++) servers.push(await startServer({ config, env }));
  return {
    servers,
    async stop() {
      // A replica a test killed has exited already (its stop() would wait for an exit that came).
      const running = servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
      await Promise.all(running.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RaceResult {
  clients: number;
  budget: number;
  /** Queries the clients got labels for (the client count). */
  answered: number;
  /** Queries the Redis ledger charged (the server count). */
  charged: number;
  /** Queries served beyond the budget. */
  overrun: number;
  /** Charged but never answered: requests in flight on a replica that died. */
  chargedUnanswered: number;
  requests: { ok: number; refused: number; failed: number };
  seconds: number;
}

/**
 * `clients` clients race one budget, client i starting on replica i mod R, until every one is
 * refused. A client whose replica fails (connection refused or reset) moves to the next replica.
 * `during` runs once the ledger has charged `afterQueries` (e.g. SIGKILL a replica mid-race).
 */
export async function race(
  redisUrl: string,
  urls: string[],
  o: { clients: number; budget: number; afterQueries?: number; during?: () => void | Promise<void> },
): Promise<RaceResult> {
  const redis = new Redis(redisUrl);
  const chargedNow = async () => Number((await redis.hget('rsa:q:env-client', RACE_DEPLOYMENT.id)) ?? 0);
  const requests = { ok: 0, refused: 0, failed: 0 };
  let answered = 0;
  const started = performance.now();
  let trigger: Promise<void> = Promise.resolve();
  if (o.during) {
    trigger = (async () => {
      while ((await chargedNow()) < (o.afterQueries ?? 0)) await new Promise((r) => setTimeout(r, 5));
      await o.during!();
    })();
  }
  const client = async (i: number) => {
    let replica = i % urls.length;
    for (let round = 0; ; round++) {
      const k = 1 + ((i + round) % 4);
      const body = float32ToBytes(images(k, (i + round) % 50).values);
      let res: Response;
      try {
        res = await fetch(`${urls[replica]}/v1/deployments/${RACE_DEPLOYMENT.id}/predict`, {
          method: 'POST',
          headers: { authorization: `Bearer ${RACE_KEYS.client}`, 'content-type': 'application/octet-stream' },
          body,
        });
      } catch {
        requests.failed++;
        replica = (replica + 1) % urls.length;
        continue;
      }
      if (res.status === 200) {
        const labels = ((await res.json()) as { labels: number[] }).labels;
        if (labels.length !== k) throw new Error(`${labels.length} labels for ${k} inputs`);
        answered += k;
        requests.ok++;
      } else if (res.status === 429) {
        await res.body?.cancel();
        requests.refused++;
        // Refused: done once even a single query no longer fits.
        if (k === 1) return;
      } else {
        throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(i)));
  await trigger;
  const charged = await chargedNow();
  redis.disconnect();
  return {
    clients: o.clients,
    budget: o.budget,
    answered,
    charged,
    overrun: Math.max(0, answered - o.budget, charged - o.budget),
    chargedUnanswered: charged - answered,
    requests,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}
