// API keys: stored as sha256 digests only, matched in constant time, each with a role and
// per-deployment query budgets.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '@rs-arena/shared/api';
import { HttpError } from './errors.js';

export interface ApiKey {
  id: string;
  role: Role;
  /** Budgets per deployment id, "*" for the rest; null = unlimited. */
  budgets: Record<string, number | null>;
  digest: Buffer;
}

const ROLE_RANK: Record<Role, number> = { client: 0, evaluator: 1, admin: 2 };

export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new secret: 32 random bytes, URL-safe, with a prefix that says what it is. */
export function generateSecret(): string {
  return `rsa_${randomBytes(32).toString('base64url')}`;
}

export class KeyStore {
  private readonly keys = new Map<string, ApiKey>();

  add(key: { id: string; role: Role; budgets?: Record<string, number | null> } & ({ secret: string } | { sha256: string })): ApiKey {
    if (this.keys.has(key.id)) throw new HttpError(409, 'conflict', `key "${key.id}" already exists`);
    const hex = 'secret' in key ? sha256Hex(key.secret) : key.sha256;
    const digest = Buffer.from(hex, 'hex');
    for (const other of this.keys.values()) {
      if (timingSafeEqual(other.digest, digest)) throw new HttpError(409, 'conflict', `that secret is already used by another key`);
    }
    const entry: ApiKey = { id: key.id, role: key.role, budgets: { ...(key.budgets ?? {}) }, digest };
    this.keys.set(key.id, entry);
    return entry;
  }

  /** The key whose digest matches; every stored digest is compared, so timing reveals nothing. */
  authenticate(secret: string): ApiKey | undefined {
    const digest = createHash('sha256').update(secret, 'utf8').digest();
    let found: ApiKey | undefined;
    for (const key of this.keys.values()) if (timingSafeEqual(key.digest, digest) && !found) found = key;
    return found;
  }

  /** Sets a key as another replica stored it (state/sync.ts), replacing any of the same id. */
  put(key: { id: string; role: Role; sha256: string; budgets: Record<string, number | null> }): ApiKey {
    const entry: ApiKey = { id: key.id, role: key.role, budgets: { ...key.budgets }, digest: Buffer.from(key.sha256, 'hex') };
    this.keys.set(key.id, entry);
    return entry;
  }

  get(id: string): ApiKey | undefined {
    return this.keys.get(id);
  }

  remove(id: string): boolean {
    return this.keys.delete(id);
  }

  list(): ApiKey[] {
    return [...this.keys.values()];
  }

  get size(): number {
    return this.keys.size;
  }
}

/** The query budget of a key on a deployment: its own entry, else "*", else unlimited. */
export function budgetFor(key: ApiKey, deployment: string): number | null {
  // Own entries only: `in` would find Object.prototype's toString, constructor… and never budget them.
  if (Object.hasOwn(key.budgets, deployment)) return key.budgets[deployment];
  return Object.hasOwn(key.budgets, '*') ? key.budgets['*'] : null;
}

function hasRole(key: ApiKey, needed: Role): boolean {
  return ROLE_RANK[key.role] >= ROLE_RANK[needed];
}

/** The key of an `Authorization: Bearer <key>` header, or a 401/403 naming what is wrong. */
export function authorize(keys: KeyStore, header: string | undefined, needed: Role): ApiKey {
  if (!header) throw new HttpError(401, 'unauthorized', 'missing Authorization header (expected "Bearer <key>")');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new HttpError(401, 'unauthorized', 'malformed Authorization header (expected "Bearer <key>")');
  const key = keys.authenticate(match[1]);
  if (!key) throw new HttpError(401, 'unauthorized', 'unknown API key');
  if (!hasRole(key, needed)) throw new HttpError(403, 'forbidden', `this route needs the ${needed} role; key "${key.id}" is a ${key.role}`);
  return key;
}
