// The query ledger: per key and deployment, queries charged, base-model forward passes and
// refusals. `charge` checks and books a whole batch in one synchronous step (no await inside), so
// concurrent requests on Node's single event loop cannot overrun a budget, not even by one query.
import type { Usage } from '@rs-arena/shared/api';

export interface Account {
  queries: number;
  forwardPasses: number;
  rejected: number;
}

export type Charge = { ok: true; usage: Usage } | { ok: false; usage: Usage };

export class Ledger {
  private readonly accounts = new Map<string, Map<string, Account>>();

  account(keyId: string, deployment: string): Account {
    let perKey = this.accounts.get(keyId);
    if (!perKey) this.accounts.set(keyId, (perKey = new Map()));
    let acc = perKey.get(deployment);
    if (!acc) perKey.set(deployment, (acc = { queries: 0, forwardPasses: 0, rejected: 0 }));
    return acc;
  }

  /** Books `count` queries if they fit in `limit` (null: unlimited); otherwise books nothing. */
  charge(keyId: string, deployment: string, count: number, limit: number | null): Charge {
    const acc = this.account(keyId, deployment);
    if (limit !== null && acc.queries + count > limit) {
      acc.rejected += count;
      return { ok: false, usage: usageOf(acc, limit) };
    }
    acc.queries += count;
    return { ok: true, usage: usageOf(acc, limit) };
  }

  /** Gives back queries that were charged but never answered (the model failed). */
  refund(keyId: string, deployment: string, count: number): void {
    const acc = this.account(keyId, deployment);
    acc.queries = Math.max(0, acc.queries - count);
  }

  addForwardPasses(keyId: string, deployment: string, count: number): void {
    this.account(keyId, deployment).forwardPasses += count;
  }

  usage(keyId: string, deployment: string, limit: number | null): Usage {
    return usageOf(this.account(keyId, deployment), limit);
  }

  /** Every account of a key, by deployment. */
  accountsOf(keyId: string): [string, Account][] {
    return [...(this.accounts.get(keyId) ?? new Map<string, Account>()).entries()];
  }

  /** Zeroes the counters of a key, of a deployment, of both, or of everything. */
  reset(keyId?: string, deployment?: string): number {
    let n = 0;
    for (const [k, perKey] of this.accounts) {
      if (keyId !== undefined && k !== keyId) continue;
      for (const [d, acc] of perKey) {
        if (deployment !== undefined && d !== deployment) continue;
        Object.assign(acc, { queries: 0, forwardPasses: 0, rejected: 0 });
        n++;
      }
    }
    return n;
  }

  forgetKey(keyId: string): void {
    this.accounts.delete(keyId);
  }
}

function usageOf(acc: Account, limit: number | null): Usage {
  return { used: acc.queries, limit, remaining: limit === null ? null : Math.max(0, limit - acc.queries) };
}
