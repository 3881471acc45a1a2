// Where the server's mutable state lives: the query ledger, the answers kept for idempotent
// retries, and the keys and deployments changed at runtime. Two implementations: this process's
// memory (the default: lost at restart, one replica only) and Redis (state/redis.ts: durable, shared
// by any number of replicas). Every call is async and a store that cannot be reached rejects with a
// 503 "state store unavailable", so nothing is ever served unbudgeted.
import type { DeploymentSpec, Role } from '@rs-arena/shared/api';
import type { Ledger } from '../budget.js';
import { MemoryLedger } from '../budget.js';
import { HttpError } from '../errors.js';
import { MemoryAnswers, type AnswerStore } from './answers.js';
import { MemoryDefenseState, type DefenseState } from './defense-state.js';

/** A key as stored: the sha256 of its secret, never the secret. */
export interface StoredKey {
  id: string;
  role: Role;
  sha256: string;
  budgets: Record<string, number | null>;
}

/** A change another replica made to a key or a deployment. */
export interface StateChange {
  kind: 'key' | 'deployment';
  id: string;
  action: 'put' | 'delete';
}

export interface StateStore {
  /** Whether other replicas may share this state (they must then be kept in sync). */
  readonly shared: boolean;
  readonly ledger: Ledger;
  readonly answers: AnswerStore;
  /** What a deployment's stateful defense keeps (fingerprints, counters, its secrets), beside the budgets. */
  defenseState(deployment: string): DefenseState;
  /** Stores a key (replacing one of the same id); with `ifAbsent`, only if none exists: false then. */
  putKey(key: StoredKey, ifAbsent?: boolean): Promise<boolean>;
  deleteKey(id: string): Promise<void>;
  keys(): Promise<StoredKey[]>;
  key(id: string): Promise<StoredKey | undefined>;
  /** Deployments added at runtime (the configured ones come from each replica's config). */
  putDeployment(spec: DeploymentSpec): Promise<void>;
  deleteDeployment(id: string): Promise<void>;
  deployments(): Promise<DeploymentSpec[]>;
  deployment(id: string): Promise<DeploymentSpec | undefined>;
  /** Calls `onChange` for every change another replica makes, and `onResync` after a reconnect (changes may have been missed). */
  watch(onChange: (change: StateChange) => void, onResync: () => void): Promise<void>;
  close(): Promise<void>;
}

const STORE_UNAVAILABLE = 'state_store_unavailable';

/** The 503 every route answers when the store cannot be reached: refused, never served unbudgeted. */
export function storeUnavailable(cause: unknown): HttpError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new HttpError(503, STORE_UNAVAILABLE, `state store unavailable (${why}); nothing was served or charged, retry later`);
}

/** The embedded default: this process's memory. Runtime keys and deployments live only in the app itself. */
export class MemoryStore implements StateStore {
  readonly shared = false;
  readonly ledger = new MemoryLedger();
  readonly answers: AnswerStore;

  constructor(answers: { maxEntries: number; maxBytes: number; ttlSeconds: number; pendingSeconds: number }) {
    this.answers = new MemoryAnswers(answers);
  }

  private readonly defenses = new Map<string, MemoryDefenseState>();
  defenseState(deployment: string): DefenseState {
    let s = this.defenses.get(deployment);
    if (!s) this.defenses.set(deployment, (s = new MemoryDefenseState()));
    return s;
  }

  async putKey(): Promise<boolean> {
    return true;
  }
  async deleteKey(): Promise<void> {}
  async keys(): Promise<StoredKey[]> {
    return [];
  }
  async key(): Promise<StoredKey | undefined> {
    return undefined;
  }
  async putDeployment(): Promise<void> {}
  async deleteDeployment(): Promise<void> {}
  async deployments(): Promise<DeploymentSpec[]> {
    return [];
  }
  async deployment(): Promise<DeploymentSpec | undefined> {
    return undefined;
  }
  async watch(): Promise<void> {}
  async close(): Promise<void> {}
}
