// The shared, durable state: everything of state/store.ts in Redis, through ioredis (the
// well-kept Node client; its defineCommand runs our Lua scripts by EVALSHA and reloads them after
// a Redis restart). Check-and-charge is one Lua script: Redis runs a script alone, so replicas
// racing one budget can never overrun it, and a refusal books no query. Ledger keys never expire.
// Commands fail fast when Redis is unreachable (no offline queue, one retry, a command timeout):
// the route answers 503 instead of waiting or serving unbudgeted.
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { DeploymentSpec } from '@rs-arena/shared/api';
import { emptyAccount, usageOf, type Account, type Charge, type Ledger } from '../budget.js';
import type { AnswerStore, Begin, StoredAnswer } from './answers.js';
import { MATCH_AND_ADD, RedisDefenseState } from './redis-defense.js';
import type { DefenseState } from './defense-state.js';
import { storeUnavailable, type StateChange, type StateStore, type StoredKey } from './store.js';

// KEYS: queries, rejected hashes (field: deployment), the set of key ids with accounts.
// ARGV: key id, deployment, count, limit ('' = unlimited). Returns {1|0, queries used}.
const CHARGE = `
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
local count = tonumber(ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
if ARGV[4] ~= '' and used + count > tonumber(ARGV[4]) then
  redis.call('HINCRBY', KEYS[2], ARGV[2], count)
  return {0, used}
end
return {1, redis.call('HINCRBY', KEYS[1], ARGV[2], count)}`;

// KEYS: queries hash. ARGV: deployment, count. Never below zero.
const REFUND = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if left < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
return 0`;

// KEYS: queries, forward passes, rejected hashes of one key. ARGV: deployment ('' = all).
// Returns how many accounts were zeroed.
const RESET = `
local fields, seen = {}, {}
if ARGV[1] ~= '' then fields = {ARGV[1]} else
  for i = 1, 3 do
    for _, f in ipairs(redis.call('HKEYS', KEYS[i])) do
      if not seen[f] then seen[f] = true; table.insert(fields, f) end
    end
  end
end
local n = 0
for _, f in ipairs(fields) do
  local found = 0
  for i = 1, 3 do
    if redis.call('HEXISTS', KEYS[i], f) == 1 then found = 1; redis.call('HSET', KEYS[i], f, 0) end
  end
  n = n + found
end
return n`;

// KEYS: the answer key. ARGV: pending value, pending TTL (ms). Reserves, or returns what is there.
const BEGIN = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

interface Scripts {
  rsaCharge(q: string, r: string, ids: string, keyId: string, deployment: string, count: number, limit: string): Promise<[number, number]>;
  rsaRefund(q: string, deployment: string, count: number): Promise<number>;
  rsaReset(q: string, f: string, r: string, deployment: string): Promise<number>;
  rsaBegin(key: string, pending: string, ttlMs: number): Promise<string | null>;
  rsaMatchAndAdd(...args: (string | number)[]): Promise<number>;
}

export interface RedisStoreOptions {
  url: string;
  /** Prefix of every Redis key (several arenas may share one Redis). */
  prefix?: string;
  answers: { ttlSeconds: number; pendingSeconds: number };
  /** Milliseconds a command may take before it fails (503). */
  commandTimeoutMs?: number;
}

export class RedisStore implements StateStore {
  readonly shared = true;
  readonly ledger: Ledger;
  readonly answers: AnswerStore;
  private readonly redis: Redis;
  private readonly scripts: Scripts;
  private subscriber: Redis | undefined;
  /** This replica's id: its own change messages come back to it and are skipped. */
  private readonly origin = randomUUID();
  private readonly p: string;

  private constructor(redis: Redis, o: RedisStoreOptions) {
    this.redis = redis;
    this.p = o.prefix ?? 'rsa:';
    redis.defineCommand('rsaCharge', { numberOfKeys: 3, lua: CHARGE });
    redis.defineCommand('rsaRefund', { numberOfKeys: 1, lua: REFUND });
    redis.defineCommand('rsaReset', { numberOfKeys: 3, lua: RESET });
    redis.defineCommand('rsaBegin', { numberOfKeys: 1, lua: BEGIN });
    // Its keys derive from a scope prefix in ARGV (one deployment's scope): not for Redis Cluster.
    redis.defineCommand('rsaMatchAndAdd', { numberOfKeys: 0, lua: MATCH_AND_ADD });
    this.scripts = redis as unknown as Scripts;
    this.ledger = new RedisLedger(this);
    this.answers = new RedisAnswers(this, o.answers);
  }

  /** Connects (failing with a clear error if Redis cannot be reached). */
  static async connect(o: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(o.url, connectionOptions(o.commandTimeoutMs));
    // Without a listener ioredis prints every failed reconnect; the routes report them as 503s.
    redis.on('error', () => {});
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at ${redactUrl(o.url)}: ${(err as Error).message}`);
    }
    return new RedisStore(redis, o);
  }

  /** Runs a command; a failure to reach Redis becomes the 503 "state store unavailable". */
  async run<T>(command: (redis: Redis, scripts: Scripts, prefix: string) => Promise<T>): Promise<T> {
    try {
      return await command(this.redis, this.scripts, this.p);
    } catch (err) {
      throw storeUnavailable(err);
    }
  }

  defenseState(deployment: string): DefenseState {
    return new RedisDefenseState(this, deployment);
  }

  async putKey(key: StoredKey, ifAbsent = false): Promise<boolean> {
    const json = JSON.stringify(key);
    const stored = await this.run((r, _, p) => (ifAbsent ? r.hsetnx(`${p}keys`, key.id, json) : r.hset(`${p}keys`, key.id, json).then(() => 1)));
    if (stored) await this.publish({ kind: 'key', id: key.id, action: 'put' });
    return stored === 1;
  }

  async deleteKey(id: string): Promise<void> {
    await this.run((r, _, p) => r.hdel(`${p}keys`, id));
    await this.publish({ kind: 'key', id, action: 'delete' });
  }

  async keys(): Promise<StoredKey[]> {
    const all = await this.run((r, _, p) => r.hvals(`${p}keys`));
    return all.map((v) => JSON.parse(v) as StoredKey);
  }

  async key(id: string): Promise<StoredKey | undefined> {
    const v = await this.run((r, _, p) => r.hget(`${p}keys`, id));
    return v === null ? undefined : (JSON.parse(v) as StoredKey);
  }

  async putDeployment(spec: DeploymentSpec): Promise<void> {
    await this.run((r, _, p) => r.hset(`${p}deployments`, spec.id, JSON.stringify(spec)));
    await this.publish({ kind: 'deployment', id: spec.id, action: 'put' });
  }

  async deleteDeployment(id: string): Promise<void> {
    await this.run((r, _, p) => r.hdel(`${p}deployments`, id));
    await this.publish({ kind: 'deployment', id, action: 'delete' });
  }

  async deployments(): Promise<DeploymentSpec[]> {
    const all = await this.run((r, _, p) => r.hvals(`${p}deployments`));
    return all.map((v) => JSON.parse(v) as DeploymentSpec);
  }

  async deployment(id: string): Promise<DeploymentSpec | undefined> {
    const v = await this.run((r, _, p) => r.hget(`${p}deployments`, id));
    return v === null ? undefined : (JSON.parse(v) as DeploymentSpec);
  }

  private async publish(change: StateChange): Promise<void> {
    await this.run((r, _, p) => r.publish(`${p}changes`, JSON.stringify({ ...change, origin: this.origin })));
  }

  async watch(onChange: (change: StateChange) => void, onResync: () => void): Promise<void> {
    // A subscribed connection can run nothing else: a second one, reconnecting on its own.
    const sub = this.redis.duplicate();
    sub.on('error', () => {});
    this.subscriber = sub;
    await sub.connect();
    let first = true;
    sub.on('ready', () => {
      // Messages published while this connection was down are lost: reload everything.
      if (!first) onResync();
    });
    first = false;
    sub.on('message', (_channel: string, text: string) => {
      let msg: StateChange & { origin?: string };
      try {
        msg = JSON.parse(text);
      } catch {
        return;
      }
      if (msg.origin === this.origin) return;
      onChange({ kind: msg.kind, id: msg.id, action: msg.action });
    });
    await sub.subscribe(`${this.p}changes`);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.subscriber?.quit()]);
    this.redis.disconnect();
    this.subscriber?.disconnect();
  }
}

class RedisLedger implements Ledger {
  constructor(private readonly s: RedisStore) {}

  async charge(keyId: string, deployment: string, count: number, limit: number | null): Promise<Charge> {
    const [ok, used] = await this.s.run((_, sc, p) =>
      sc.rsaCharge(`${p}q:${keyId}`, `${p}r:${keyId}`, `${p}ledger-keys`, keyId, deployment, count, limit === null ? '' : String(limit)),
    );
    return { ok: ok === 1, usage: usageOf(Number(used), limit) } as Charge;
  }

  async refund(keyId: string, deployment: string, count: number): Promise<void> {
    await this.s.run((_, sc, p) => sc.rsaRefund(`${p}q:${keyId}`, deployment, count));
  }

  async addForwardPasses(keyId: string, deployment: string, count: number): Promise<void> {
    await this.s.run((r, _, p) => r.hincrby(`${p}f:${keyId}`, deployment, count));
  }

  async account(keyId: string, deployment: string): Promise<Account> {
    const [q, f, r] = await this.s.run((redis, _, p) =>
      Promise.all([redis.hget(`${p}q:${keyId}`, deployment), redis.hget(`${p}f:${keyId}`, deployment), redis.hget(`${p}r:${keyId}`, deployment)]),
    );
    return { queries: Number(q ?? 0), forwardPasses: Number(f ?? 0), rejected: Number(r ?? 0) };
  }

  async accountsOf(keyId: string): Promise<Map<string, Account>> {
    const [q, f, r] = await this.s.run((redis, _, p) =>
      Promise.all([redis.hgetall(`${p}q:${keyId}`), redis.hgetall(`${p}f:${keyId}`), redis.hgetall(`${p}r:${keyId}`)]),
    );
    const out = new Map<string, Account>();
    const fill = (hash: Record<string, string>, field: keyof Account) => {
      for (const [d, v] of Object.entries(hash)) {
        let acc = out.get(d);
        if (!acc) out.set(d, (acc = emptyAccount()));
        acc[field] = Number(v);
      }
    };
    fill(q, 'queries');
    fill(f, 'forwardPasses');
    fill(r, 'rejected');
    return out;
  }

  async reset(keyId?: string, deployment?: string): Promise<number> {
    const ids = keyId !== undefined ? [keyId] : await this.s.run((r, _, p) => r.smembers(`${p}ledger-keys`));
    let n = 0;
    for (const id of ids) n += await this.s.run((_, sc, p) => sc.rsaReset(`${p}q:${id}`, `${p}f:${id}`, `${p}r:${id}`, deployment ?? ''));
    return n;
  }

  async forgetKey(keyId: string): Promise<void> {
    await this.s.run((r, _, p) => r.multi().del(`${p}q:${keyId}`, `${p}f:${keyId}`, `${p}r:${keyId}`).srem(`${p}ledger-keys`, keyId).exec());
  }
}

class RedisAnswers implements AnswerStore {
  constructor(
    private readonly s: RedisStore,
    private readonly o: RedisStoreOptions['answers'],
  ) {}

  async begin(id: string, fingerprint: string): Promise<Begin> {
    const pending = JSON.stringify({ pending: true, fingerprint });
    const held = await this.s.run((_, sc, p) => sc.rsaBegin(`${p}answer:${id}`, pending, this.o.pendingSeconds * 1000));
    if (held === null) return { state: 'new' };
    const value = JSON.parse(held) as { pending: true; fingerprint: string } | StoredAnswer;
    return 'pending' in value ? { state: 'pending', fingerprint: value.fingerprint } : { state: 'done', answer: value };
  }

  async finish(id: string, answer: StoredAnswer): Promise<void> {
    await this.s.run((r, _, p) => r.set(`${p}answer:${id}`, JSON.stringify(answer), 'PX', this.o.ttlSeconds * 1000));
  }

  async abandon(id: string): Promise<void> {
    await this.s.run((r, _, p) => r.del(`${p}answer:${id}`));
  }
}

function connectionOptions(commandTimeoutMs = 2000): RedisOptions {
  return {
    lazyConnect: true,
    // Fail fast rather than queue: a command sent while Redis is down must become a 503 now.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    // Keep reconnecting in the background (at most every 2 s) so service resumes when Redis is back.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
}

/** The URL without its password, for error messages and logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL (unparseable)';
  }
}
