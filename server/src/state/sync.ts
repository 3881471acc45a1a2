// Keeping one replica's keys and deployments equal to the shared store's: loaded at start, then
// followed through the store's change messages (a key or deployment added on replica A is served
// by replica B), and reloaded whole after a reconnect (messages sent meanwhile are lost).
import type { FastifyBaseLogger } from 'fastify';
import type { DeploymentSpec } from '@rs-arena/shared/api';
import { generateSecret, type ApiKey } from '../auth.js';
import type { AppContext } from '../context.js';
import type { ServerConfig } from '../config.js';
import { MemoryStore, type StateChange, type StateStore, type StoredKey } from './store.js';
import { RedisStore } from './redis.js';

/** The store the config asks for: Redis with `redisUrl`, else this process's memory. */
export async function openStore(config: ServerConfig): Promise<StateStore> {
  const answers = config.idempotency;
  if (!config.redisUrl) return new MemoryStore(answers);
  return RedisStore.connect({ url: config.redisUrl, answers });
}

export const storedKey = (k: ApiKey): StoredKey => ({ id: k.id, role: k.role, sha256: k.digest.toString('hex'), budgets: k.budgets });

/**
 * The keys every replica serves: the configured ones (written to the store: for a configured key
 * the config wins at each start), then those created at runtime. With no key at all, fresh random
 * keys: in a shared store only the first replica's are kept, the others load them.
 */
export async function loadKeys(
  ctx: AppContext,
  config: ServerConfig,
  onGenerated?: (keys: { id: string; role: string; secret: string }[]) => void,
): Promise<StoredKey[]> {
  for (const k of config.keys) ctx.keys.add(k);
  for (const k of config.envKeys ?? []) ctx.keys.add(k);
  const own = ctx.keys.list().map(storedKey);
  for (const k of own) await ctx.state.putKey(k);
  for (const k of await ctx.state.keys()) if (!own.some((o) => o.id === k.id)) ctx.keys.put(k);
  if (ctx.keys.size > 0) return own;
  const generated = [
    { id: 'admin', role: 'admin' as const, secret: generateSecret() },
    { id: 'client', role: 'client' as const, secret: generateSecret() },
  ];
  const kept = [];
  for (const k of generated) {
    const key = ctx.keys.add(k);
    if (await ctx.state.putKey(storedKey(key), true)) {
      kept.push(k);
      own.push(storedKey(key));
    } else {
      // Another replica generated this one first: serve its key (its secret was printed there).
      ctx.keys.remove(k.id);
      const theirs = await ctx.state.key(k.id);
      if (theirs) ctx.keys.put(theirs);
    }
  }
  if (kept.length > 0) onGenerated?.(kept);
  return own;
}

/** Adds the deployments other replicas created at runtime (the configured ones are loaded already). */
export async function loadDeployments(ctx: AppContext, log: FastifyBaseLogger): Promise<void> {
  for (const spec of await ctx.state.deployments()) await putDeployment(ctx, spec, log);
}

/** Follows the other replicas' changes, one at a time in the order they come. `own`: the keys this replica brought (loadKeys). */
export async function followChanges(ctx: AppContext, config: ServerConfig, own: StoredKey[], log: FastifyBaseLogger): Promise<void> {
  if (!ctx.state.shared) return;
  let queue = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch((err) => log.warn({ err }, 'could not apply a change from the shared state store'));
  };
  await ctx.state.watch(
    (change) => enqueue(() => applyChange(ctx, change, log)),
    () => enqueue(() => resync(ctx, config, own, log)),
  );
}

async function applyChange(ctx: AppContext, change: StateChange, log: FastifyBaseLogger): Promise<void> {
  if (change.kind === 'key') {
    const stored = change.action === 'put' ? await ctx.state.key(change.id) : undefined;
    if (stored) ctx.keys.put(stored);
    else ctx.keys.remove(change.id);
    return;
  }
  const spec = change.action === 'put' ? await ctx.state.deployment(change.id) : undefined;
  if (spec) await putDeployment(ctx, spec, log);
  else if (ctx.deployments.remove(change.id)) log.info({ deployment: change.id }, 'deployment removed by another replica');
}

async function resync(ctx: AppContext, config: ServerConfig, own: StoredKey[], log: FastifyBaseLogger): Promise<void> {
  const keys = await ctx.state.keys();
  const ids = new Set(keys.map((k) => k.id));
  // A Redis that came back empty (no persistence) still gets this replica's configured keys.
  for (const k of own) if (!ids.has(k.id)) await ctx.state.putKey(k, true);
  for (const k of ctx.keys.list()) if (!ids.has(k.id) && !own.some((o) => o.id === k.id)) ctx.keys.remove(k.id);
  for (const k of keys) ctx.keys.put(k);
  const specs = await ctx.state.deployments();
  const keep = new Set([...config.deployments.map((d) => d.id), ...specs.map((d) => d.id)]);
  for (const d of ctx.deployments.list()) if (!keep.has(d.id)) ctx.deployments.remove(d.id);
  for (const spec of specs) await putDeployment(ctx, spec, log);
}

/** Serves `spec` unless an identical deployment is served already; a model this replica cannot load is logged, not fatal. */
async function putDeployment(ctx: AppContext, spec: DeploymentSpec, log: FastifyBaseLogger): Promise<void> {
  if (ctx.deployments.has(spec.id)) {
    if (JSON.stringify(ctx.deployments.get(spec.id).spec) === JSON.stringify(spec)) return;
    ctx.deployments.remove(spec.id);
  }
  try {
    await ctx.deployments.add(spec);
    log.info({ deployment: spec.id }, 'deployment loaded from the shared state store');
  } catch (err) {
    log.error({ err, deployment: spec.id }, 'cannot serve a deployment of the shared state store');
  }
}
