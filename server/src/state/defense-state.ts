// What a stateful defense keeps, where the budgets are kept: this process's memory by default, Redis
// with REDIS_URL (state/redis-defense.ts), so replicas share it and it survives a restart. One
// namespace per deployment; every call is async and a Redis that cannot be reached rejects with
// the 503 "state store unavailable" (never an unchecked answer).
//
// Three kinds of state cover the defenses we know: a secret (drawn once, shared by replicas: a
// salt or a hash key that must be the deployment's own), counters per member (detections per key),
// and fingerprint sets (Blacklight's top-k window hashes) with a bounded memory.
import { randomBytes } from 'node:crypto';

/** Bounds of a fingerprint scope: the oldest fingerprints leave first. */
export interface FingerprintLimits {
  /** Most fingerprints kept per scope. */
  maxEntries: number;
  /** Fingerprints older than this leave (0: no age limit). */
  maxAgeSeconds: number;
}

export interface DefenseState {
  /** The deployment's secret `name` (32 random bytes), drawn on first use and the same on every replica. */
  secret(name: string): Promise<Buffer>;
  /**
   * The most hashes `hashes` shares with one earlier fingerprint of `scope`, then records it as a
   * fingerprint of `scope` (one step: two replicas checking at once both see each other or one sees the other).
   */
  matchAndAdd(scope: string, hashes: string[], limits: FingerprintLimits): Promise<number>;
  /** Adds `by` to counter `member` of `name`; returns the new value. */
  increment(name: string, member: string, by?: number): Promise<number>;
  /** One counter (0 when never counted). */
  counter(name: string, member: string): Promise<number>;
  /** Every counter of `name`. */
  counters(name: string): Promise<Map<string, number>>;
  /** Forgets fingerprints and counters (a secret stays): of one scope and its counters' member, or all. */
  reset(scope?: string): Promise<void>;
  /** Forgets everything, the secrets too: the deployment was removed. */
  drop(): Promise<void>;
}

interface Scope {
  /** hash → ids of the fingerprints holding it. */
  byHash: Map<string, Set<number>>;
  /** id → its hashes and when it was added; insertion order is age order. */
  entries: Map<number, { hashes: string[]; at: number }>;
}

/** In this process's memory: lost at restart, one replica only. */
export class MemoryDefenseState implements DefenseState {
  private readonly secrets = new Map<string, Buffer>();
  private readonly scopes = new Map<string, Scope>();
  private readonly counts = new Map<string, Map<string, number>>();
  private nextId = 1;

  async secret(name: string): Promise<Buffer> {
    let s = this.secrets.get(name);
    if (!s) this.secrets.set(name, (s = randomBytes(32)));
    return s;
  }

  async matchAndAdd(scopeName: string, hashes: string[], limits: FingerprintLimits): Promise<number> {
    let scope = this.scopes.get(scopeName);
    if (!scope) this.scopes.set(scopeName, (scope = { byHash: new Map(), entries: new Map() }));
    const now = Date.now();
    // Expire first: by age, then by count (the oldest first in both cases).
    for (const [id, e] of scope.entries) {
      const old = limits.maxAgeSeconds > 0 && now - e.at > limits.maxAgeSeconds * 1000;
      if (!old && scope.entries.size < limits.maxEntries) break;
      forget(scope, id, e.hashes);
    }
    const shared = new Map<number, number>();
    let best = 0;
    for (const h of hashes) {
      for (const id of scope.byHash.get(h) ?? []) {
        const c = (shared.get(id) ?? 0) + 1;
        shared.set(id, c);
        if (c > best) best = c;
      }
    }
    const id = this.nextId++;
    scope.entries.set(id, { hashes, at: now });
    for (const h of hashes) {
      let ids = scope.byHash.get(h);
      if (!ids) scope.byHash.set(h, (ids = new Set()));
      ids.add(id);
    }
    return best;
  }

  async increment(name: string, member: string, by = 1): Promise<number> {
    let m = this.counts.get(name);
    if (!m) this.counts.set(name, (m = new Map()));
    const v = (m.get(member) ?? 0) + by;
    m.set(member, v);
    return v;
  }

  async counter(name: string, member: string): Promise<number> {
    return this.counts.get(name)?.get(member) ?? 0;
  }

  async counters(name: string): Promise<Map<string, number>> {
    return new Map(this.counts.get(name) ?? []);
  }

  async reset(scope?: string): Promise<void> {
    if (scope === undefined) {
      this.scopes.clear();
      this.counts.clear();
      return;
    }
    this.scopes.delete(scope);
    for (const m of this.counts.values()) m.delete(scope);
  }

  async drop(): Promise<void> {
    await this.reset();
    this.secrets.clear();
  }

  /** Fingerprints kept in a scope (for tests of the memory bound). */
  size(scope: string): number {
    return this.scopes.get(scope)?.entries.size ?? 0;
  }
}

function forget(scope: Scope, id: number, hashes: string[]): void {
  scope.entries.delete(id);
  for (const h of hashes) {
    const ids = scope.byHash.get(h);
    ids?.delete(id);
    if (ids?.size === 0) scope.byHash.delete(h);
  }
}
