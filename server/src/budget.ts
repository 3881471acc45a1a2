// The query ledger: per key and deployment, queries charged, base-model forward passes and
// refusals. `charge` checks and books a whole batch in one atomic step: here one synchronous
// block (no await inside, so Node's single event loop cannot interleave two charges), in Redis
// one Lua script (state/redis.ts), so any number of replicas share one exact budget.
import type { Usage } from '@rs-arena/shared/api';

export interface Account {
  queries: number;
  forwardPasses: number;
  rejected: number;
}

export type Charge = { ok: true; usage: Usage } | { ok: false; usage: Usage };

/** Every method is async: the shared ledger lives in Redis. A store that cannot be reached rejects (503), never serves unbudgeted. */
export interface Ledger {
  /** Books `count` queries if they fit in `limit` (null: unlimited); otherwise books nothing and counts a refusal. */
  charge(keyId: string, deployment: string, count: number, limit: number | null): Promise<Charge>;
  /** Gives back queries that were charged but never answered (the model failed, the client left). */
  refund(keyId: string, deployment: string, count: number): Promise<void>;
  addForwardPasses(keyId: string, deployment: string, count: number): Promise<void>;
  /** The account of a key on a deployment (zeros if it never queried it). */
  account(keyId: string, deployment: string): Promise<Account>;
  /** Every account a key has, by deployment. */
  accountsOf(keyId: string): Promise<Map<string, Account>>;
  /** Zeroes the counters of a key, of a deployment, of both, or of everything; returns how many accounts. */
  reset(keyId?: string, deployment?: string): Promise<number>;
  forgetKey(keyId: string): Promise<void>;
}

export const emptyAccount = (): Account => ({ queries: 0, forwardPasses: 0, rejected: 0 });

/** The embedded default: one process's memory, lost at restart (README, "State and durability"). */
export class MemoryLedger implements Ledger {
  // Maps, not objects: no deployment or key id (`constructor`, `__proto__`…) can reach a prototype.
  private readonly accounts = new Map<string, Map<string, Account>>();

  private acc(keyId: string, deployment: string): Account {
    let perKey = this.accounts.get(keyId);
    if (!perKey) this.accounts.set(keyId, (perKey = new Map()));
    let acc = perKey.get(deployment);
    if (!acc) perKey.set(deployment, (acc = emptyAccount()));
    return acc;
  }

  async charge(keyId: string, deployment: string, count: number, limit: number | null): Promise<Charge> {
    const acc = this.acc(keyId, deployment);
    if (limit !== null && acc.queries + count > limit) {
      acc.rejected += count;
      return { ok: false, usage: usageOf(acc.queries, limit) };
    }
    acc.queries += count;
    return { ok: true, usage: usageOf(acc.queries, limit) };
  }

  async refund(keyId: string, deployment: string, count: number): Promise<void> {
    const acc = this.acc(keyId, deployment);
    acc.queries = Math.max(0, acc.queries - count);
  }

  async addForwardPasses(keyId: string, deployment: string, count: number): Promise<void> {
    this.acc(keyId, deployment).forwardPasses += count;
  }

  async account(keyId: string, deployment: string): Promise<Account> {
    return { ...(this.accounts.get(keyId)?.get(deployment) ?? emptyAccount()) };
  }

  async accountsOf(keyId: string): Promise<Map<string, Account>> {
    return new Map([...(this.accounts.get(keyId) ?? [])].map(([d, acc]) => [d, { ...acc }]));
  }

  async reset(keyId?: string, deployment?: string): Promise<number> {
    let n = 0;
    for (const [k, perKey] of this.accounts) {
      if (keyId !== undefined && k !== keyId) continue;
      for (const [d, acc] of perKey) {
        if (deployment !== undefined && d !== deployment) continue;
        Object.assign(acc, emptyAccount());
        n++;
      }
    }
    return n;
  }

  async forgetKey(keyId: string): Promise<void> {
    this.accounts.delete(keyId);
  }
}

export function usageOf(used: number, limit: number | null): Usage {
  return { used, limit, remaining: limit === null ? null : Math.max(0, limit - used) };
}
