// Answers kept for idempotent retries: a request id (the client's Idempotency-Key, scoped to its
// API key) maps first to "pending" while the request runs, then to the answer it got. A retry of
// an answered request is given that answer again: no new draw of noise, no second charge. Bounded:
// in memory by count and bytes (least recently used first out), in Redis by a TTL.

export interface StoredAnswer {
  /** sha256 of method, path, content type and body: a reused id with another request is refused. */
  fingerprint: string;
  status: number;
  body: string;
  /** A binary answer (OIP binary tensor data): `body` is base64, and the headers that frame it. */
  binary?: { headers: Record<string, string> };
}

export type Begin = { state: 'new' } | { state: 'pending'; fingerprint: string } | { state: 'done'; answer: StoredAnswer };

export interface AnswerStore {
  /** Reserves `id` for a new request, or tells what is already there. */
  begin(id: string, fingerprint: string): Promise<Begin>;
  /** Keeps the answer of a reserved request. */
  finish(id: string, answer: StoredAnswer): Promise<void>;
  /** Drops a reservation whose request got no answer worth keeping (a refusal charged nothing: a retry may run again). */
  abandon(id: string): Promise<void>;
}

export interface AnswerLimits {
  maxEntries: number;
  maxBytes: number;
  ttlSeconds: number;
  /** How long a reservation holds if its request never finishes (a replica killed mid-request). */
  pendingSeconds: number;
}

export class MemoryAnswers implements AnswerStore {
  private readonly pending = new Map<string, { fingerprint: string; until: number }>();
  // A Map iterates in insertion order: re-inserting on read makes the first entry the least recently used.
  private readonly done = new Map<string, { answer: StoredAnswer; until: number; bytes: number }>();
  private bytes = 0;

  constructor(private readonly limits: AnswerLimits) {}

  async begin(id: string, fingerprint: string): Promise<Begin> {
    const now = Date.now();
    const hit = this.done.get(id);
    if (hit && hit.until > now) {
      this.done.delete(id);
      this.done.set(id, hit);
      return { state: 'done', answer: hit.answer };
    }
    if (hit) this.drop(id);
    const held = this.pending.get(id);
    if (held && held.until > now) return { state: 'pending', fingerprint: held.fingerprint };
    this.pending.set(id, { fingerprint, until: now + this.limits.pendingSeconds * 1000 });
    return { state: 'new' };
  }

  async finish(id: string, answer: StoredAnswer): Promise<void> {
    this.pending.delete(id);
    this.drop(id);
    const bytes = 2 * (id.length + answer.body.length + answer.fingerprint.length) + 64;
    if (bytes > this.limits.maxBytes) return;
    this.done.set(id, { answer, until: Date.now() + this.limits.ttlSeconds * 1000, bytes });
    this.bytes += bytes;
    for (const oldest of this.done.keys()) {
      if (this.done.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.drop(oldest);
    }
  }

  async abandon(id: string): Promise<void> {
    this.pending.delete(id);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.done.size, bytes: this.bytes };
  }

  private drop(id: string): void {
    const entry = this.done.get(id);
    if (!entry) return;
    this.done.delete(id);
    this.bytes -= entry.bytes;
  }
}
