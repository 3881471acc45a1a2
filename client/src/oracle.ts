// The attacker's view of a classifier: a batch of inputs in, top-1 labels out. Every attack talks
// to a CountingOracle, through which every model call passes: it checks the budget before each call
// (an attack never spends more than its budget, not even by one query), counts queries per phase,
// and counts "bad" queries (answered with a label other than the original), as in the ETH
// realistic-adversarial-examples accounting.
import type { z } from 'zod';
import type { AttackRecord, PhaseCount as PhaseCountSchema } from './record.js';

/** A black-box classifier: HTTP (oracle-http.ts), or in-process in tests (test/helpers/oracle-local.ts). */
export interface Oracle {
  /** [C, H, W] of one input. */
  readonly inputShape: readonly [number, number, number];
  /** Valid input range; attacks clip to it. */
  readonly range: readonly [number, number];
  /**
   * Top-1 labels for `count` inputs laid back to back in `batch` (−1: the defence abstained). An
   * oracle whose endpoint takes images on a grid (PNG, JPEG: encoding.ts) overwrites `batch` with
   * the points it actually sent, so the caller holds exactly what was asked.
   */
  predict(batch: Float32Array, count: number): Promise<Int32Array>;
  /** The point the endpoint sees when asked `x` (a copy); absent: `x` itself. */
  onGrid?(x: Float32Array): Promise<Float32Array>;
  /** The spacing of the grid the endpoint's inputs live on (8-bit images: 1/255 of the range); absent: continuous. */
  readonly gridStep?: number;
}

/** Thrown when a call would exceed the budget (client-side) or the server answered 429. */
export class BudgetExhausted extends Error {
  override name = 'BudgetExhausted';

  constructor(
    message: string,
    /**
     * Queries of the refused call the server did charge before refusing: a batch split into
     * several requests (oracle-http.ts) may meet the 429 half-way, after earlier parts were answered.
     */
    readonly charged = 0,
  ) {
    super(message);
  }
}

/** The server refused a request for budget (a 429 that is not a rate limit): nothing was charged, the attack ends. */
export class BudgetRefused extends BudgetExhausted {
  override name = 'BudgetRefused';
}

/**
 * The endpoint refused to answer (a stateful detector: rs-arena's 403 `query_refused`, or
 * `key_suspended` once a key is suspended) and CHARGED the refused queries: they were asked. The
 * oracle reports it as this typed outcome; the counting oracle keeps the queries booked and counts
 * them as refused. A plain attack ends on it (stop reason `refused` or `suspended`); the adaptive
 * layers (adaptive.ts) resample, blind more, or move to another key.
 */
export class QueryRefused extends Error {
  override name = 'QueryRefused';

  constructor(
    message: string,
    /** The server's code: `query_refused`, `key_suspended`; `accounts_suspended` when no key of a pool is left (nothing sent). */
    readonly code: string,
    /** Inputs of the call the server charged: the refused ones and any answered before the refusal (a split batch). */
    readonly charged = 0,
    /** Inputs the server refused (charged, unanswered). */
    readonly refused = 0,
  ) {
    super(message);
  }

  /** Every key of the attacker's pool is suspended: an attack cannot go on. */
  get suspended(): boolean {
    return this.code === 'key_suspended' || this.code === 'accounts_suspended';
  }
}

/** Queries and "bad" queries: in total and per phase, as records store them (record.ts). */
export type PhaseCount = z.infer<typeof PhaseCountSchema>;
export type QueryCounts = AttackRecord['queries'];

export class CountingOracle {
  readonly inputSize: number;
  private total = 0;
  private bad = 0;
  /** Queries the endpoint refused (charged, unanswered: QueryRefused), and the query count when the first came. */
  private refusedCount = 0;
  private firstRefused: number | null = null;
  private readonly phases: Record<string, PhaseCount> = {};
  private current = 'init';
  /** (queries, value) pairs an attack records as it improves. */
  readonly history: [number, number][] = [];

  constructor(
    readonly inner: Oracle,
    /** The label of the original input: other (non-abstaining) answers are adversarial, "bad" queries. */
    readonly originalLabel: number,
    readonly budget: number,
    /** Queries already spent on this image (e.g. asking the label of an unlabelled input). */
    spent?: QueryCounts,
    /**
     * Queries one input costs: 1, or ℓ when the inner oracle answers each point by ℓ repeated
     * top-1 queries (the realistic confidence-level attacker, experiments/confidence.ts).
     */
    readonly cost = 1,
  ) {
    if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`budget must be a non-negative integer, got ${budget}`);
    this.inputSize = inner.inputShape.reduce((a, b) => a * b, 1);
    if (spent) {
      this.total = spent.total;
      this.bad = spent.bad;
      this.refusedCount = spent.refused ?? 0;
      this.firstRefused = spent.firstRefusedAt ?? null;
      Object.assign(this.phases, structuredClone(spent.perPhase));
    }
  }

  get inputShape() {
    return this.inner.inputShape;
  }

  get range() {
    return this.inner.range;
  }

  /** The endpoint's grid spacing (Oracle.gridStep): a probe smaller than it asks nothing new. */
  get gridStep(): number | undefined {
    return this.inner.gridStep;
  }

  get queries(): number {
    return this.total;
  }

  /** Inputs that can still be asked about (queries left ÷ cost per input). */
  get remaining(): number {
    return Math.floor((this.budget - this.total) / this.cost);
  }

  /** Attribute the following queries to `name` (init, binary-search, gradient, step, …). */
  phase(name: string): void {
    this.current = name;
  }

  /** Queries the endpoint refused (charged). */
  get refused(): number {
    return this.refusedCount;
  }

  counts(): QueryCounts {
    const c: QueryCounts = { total: this.total, bad: this.bad, perPhase: structuredClone(this.phases) };
    // Only where a refusal happened: records of endpoints without a detector stay as they were.
    if (this.refusedCount > 0) Object.assign(c, { refused: this.refusedCount, firstRefusedAt: this.firstRefused });
    return c;
  }

  /** Labels of `count` inputs; throws BudgetExhausted before any call that would exceed the budget. */
  async labels(batch: Float32Array, count: number): Promise<Int32Array> {
    if (count === 0) return new Int32Array(0);
    const price = count * this.cost;
    if (this.total + price > this.budget) {
      throw new BudgetExhausted(`query budget of ${this.budget} exhausted (${this.total} used, ${price} more asked)`);
    }
    // Booked before the call: a query the server answered but the network lost still cost us.
    this.total += price;
    const p = (this.phases[this.current] ??= { queries: 0, bad: 0 });
    p.queries += price;
    let labels: Int32Array;
    try {
      labels = await this.inner.predict(batch.subarray(0, count * this.inputSize), count);
    } catch (err) {
      // A server that refuses for budget (429) charged nothing of the refused part: un-book that
      // part only (the parts answered before it were charged), so both counts agree.
      if (err instanceof BudgetExhausted) {
        const refused = price - Math.min(price, err.charged);
        this.total -= refused;
        p.queries -= refused;
      }
      // A detector's refusal is charged: what the server charged stays booked (the rest of a split
      // batch was never sent), and the refused queries are counted as such. (`charged` and
      // `refused` count endpoint queries: an inner oracle that asks ℓ repeats per point reports those.)
      if (err instanceof QueryRefused) {
        const unsent = price - Math.min(price, err.charged);
        this.total -= unsent;
        p.queries -= unsent;
        if (err.refused > 0) {
          this.firstRefused ??= this.total;
          this.refusedCount += err.refused;
          p.refused = (p.refused ?? 0) + err.refused;
        }
      }
      throw err;
    }
    for (const l of labels) {
      if (l >= 0 && l !== this.originalLabel) {
        this.bad += this.cost;
        p.bad += this.cost;
      }
    }
    return labels;
  }

  record(value: number): void {
    this.history.push([this.total, value]);
  }
}
