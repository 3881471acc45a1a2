// A defense's state (state/defense-state.ts) in Redis: shared by every replica on the Redis,
// durable across restarts. A fingerprint check-and-add is one Lua script (Redis runs it alone), so
// two replicas seeing near-duplicates at once cannot both miss each other. Keys, under the store's
// prefix: def:<deployment>:secret:<name>, def:<deployment>:c:<name> (counters, a hash), and per
// fingerprint scope def:<deployment>:s:<scope>:{seq, order (ids by time), fp (id → its hashes),
// h:<hash> (ids holding it)}.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DefenseState, FingerprintLimits } from './defense-state.js';

// ARGV: scope base, now (ms), max age (ms, 0: none), max entries, then the hashes.
// Expires (age, then count: oldest first), counts shared hashes per earlier fingerprint, records this one.
export const MATCH_AND_ADD = `
local base = ARGV[1]
local now, maxAge, maxEntries = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local order, fp = base .. 'order', base .. 'fp'
local function forget(id)
  local hs = redis.call('HGET', fp, id)
  if hs then for h in string.gmatch(hs, '[^,]+') do redis.call('SREM', base .. 'h:' .. h, id) end end
  redis.call('HDEL', fp, id)
  redis.call('ZREM', order, id)
end
if maxAge > 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', order, '-inf', now - maxAge)) do forget(id) end
end
local size = redis.call('ZCARD', order)
if size >= maxEntries then
  for _, id in ipairs(redis.call('ZRANGE', order, 0, size - maxEntries)) do forget(id) end
end
local shared, best = {}, 0
for i = 5, #ARGV do
  for _, id in ipairs(redis.call('SMEMBERS', base .. 'h:' .. ARGV[i])) do
    local c = (shared[id] or 0) + 1
    shared[id] = c
    if c > best then best = c end
  end
end
local id = string.format('%015d', redis.call('INCR', base .. 'seq'))
local joined = {}
for i = 5, #ARGV do
  redis.call('SADD', base .. 'h:' .. ARGV[i], id)
  table.insert(joined, ARGV[i])
end
redis.call('HSET', fp, id, table.concat(joined, ','))
redis.call('ZADD', order, now, id)
return best`;

export interface RedisRunner {
  run<T>(command: (redis: Redis, scripts: { rsaMatchAndAdd(...args: (string | number)[]): Promise<number> }, prefix: string) => Promise<T>): Promise<T>;
}

export class RedisDefenseState implements DefenseState {
  constructor(
    private readonly store: RedisRunner,
    private readonly deployment: string,
  ) {}

  private base(p: string): string {
    return `${p}def:${this.deployment}:`;
  }

  async secret(name: string): Promise<Buffer> {
    const hex = await this.store.run(async (r, _, p) => {
      const key = `${this.base(p)}secret:${name}`;
      await r.set(key, randomBytes(32).toString('hex'), 'NX');
      return r.get(key);
    });
    return Buffer.from(hex!, 'hex');
  }

  async matchAndAdd(scope: string, hashes: string[], limits: FingerprintLimits): Promise<number> {
    return this.store.run((_, s, p) => s.rsaMatchAndAdd(`${this.base(p)}s:${scope}:`, Date.now(), limits.maxAgeSeconds * 1000, limits.maxEntries, ...hashes));
  }

  async increment(name: string, member: string, by = 1): Promise<number> {
    return this.store.run((r, _, p) => r.hincrby(`${this.base(p)}c:${name}`, member, by));
  }

  async counter(name: string, member: string): Promise<number> {
    return Number((await this.store.run((r, _, p) => r.hget(`${this.base(p)}c:${name}`, member))) ?? 0);
  }

  async counters(name: string): Promise<Map<string, number>> {
    const all = await this.store.run((r, _, p) => r.hgetall(`${this.base(p)}c:${name}`));
    return new Map(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }

  async reset(scope?: string): Promise<void> {
    await this.store.run(async (r, _, p) => {
      const base = this.base(p);
      await deleteMatching(r, scope === undefined ? `${base}s:*` : `${base}s:${scope}:*`);
      if (scope === undefined) await deleteMatching(r, `${base}c:*`);
      else for (const key of await keysMatching(r, `${base}c:*`)) await r.hdel(key, scope);
    });
  }

  async drop(): Promise<void> {
    await this.store.run((r, _, p) => deleteMatching(r, `${this.base(p)}*`));
  }
}

async function keysMatching(r: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

async function deleteMatching(r: Redis, pattern: string): Promise<void> {
  const keys = await keysMatching(r, pattern);
  for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
}
