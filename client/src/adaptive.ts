// Adaptive attackers (issue 19): what an attacker who knows the endpoint runs a stateful detector
// does about it, as layers around the oracle, so that ANY registered attack (hsja, the noise-aware
// *-seq ones, …) becomes blinded, rejection-aware or many-account without knowing it (Foolbox: the
// model behind an oracle, the attack never knows what is behind it).
//
// - blind: every query, every repeat of a sequential test included, is sent as a random
//   transformation of the point the attack asked about (Chen, Carlini & Wagner 2020, "Stateful
//   detection of black-box adversarial attacks", query blinding): Gaussian noise of a set per-pixel
//   std, clipped to the input range, after an optional random integer shift. The decision is taken
//   on the blinded point. A Blacklight-style hash quantizes each value to steps of 50/255; noise
//   large against that step moves enough values across a step that two probes of one point share
//   fewer window hashes than the threshold.
// - rejectionAware (after OARS, Feng et al., CCS 2023): a refusal is information. Refused points are
//   resampled with more blinding noise, and the noise grows while the recent rejection rate exceeds
//   a target (and shrinks back when it stays under it): OARS adapts its sampling the same way.
// - accounts: the queries are spread over k API keys, each key's budget booked on the client; a key
//   the server suspends is dropped and the next one takes its place.
//
// The layers, bottom up: the endpoint through each key → `AccountPool` (which key asks, per-key
// books) → `BlindedOracle` → `AdaptiveCountingOracle` (the attack's CountingOracle: budget, counts,
// and the resampling of refused points, each resample a counted, budgeted query) → the attack.
// `adaptiveCounting` builds them; `attack-run.ts` calls it for every run, plain ones included.
import { Rng } from '@rs-arena/shared/rng';
import { z } from 'zod';
import { BudgetExhausted, BudgetRefused, CountingOracle, type Oracle, type QueryCounts, QueryRefused } from './oracle.js';

export const Blind = z
  .strictObject({
    noise: z
      .number()
      .min(0)
      .max(1)
      .describe('std of the Gaussian noise added to each value of every query, on the 0–1 scale of the input range (clipped to the range)'),
    shift: z
      .number()
      .int()
      .min(0)
      .max(8)
      .default(0)
      .describe('largest random integer shift in pixels along each axis before the noise (edge pixels repeated); 0: none'),
  })
  .describe('query blinding: each query is a random transformation of the point asked about');
export type Blind = z.output<typeof Blind>;

const RejectionAware = z
  .strictObject({
    targetRate: z.number().min(0).max(1).default(0.05).describe('rejection rate over the recent window the attacker tries to stay under'),
    window: z.number().int().min(1).max(10_000).default(20).describe('recent queries over which the rejection rate is measured'),
    growth: z
      .number()
      .gt(1)
      .max(10)
      .default(2)
      .describe('factor by which the blinding noise grows while the recent rate exceeds the target (and shrinks back toward its start below it)'),
    startNoise: z.number().min(0).max(1).default(0.002).describe('blinding noise to start from when `blind` gives none (0–1 scale)'),
    maxNoise: z.number().gt(0).max(1).default(0.064).describe('blinding noise never grows beyond this'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(4)
      .describe('times a refused point is resampled (with fresh, grown blinding) before the attack is told it is not adversarial'),
  })
  .describe('rejection-aware search (OARS): refused points are resampled with more blinding, keeping the recent rejection rate under a target');
type RejectionAware = z.output<typeof RejectionAware>;

export const Accounts = z
  .strictObject({
    keys: z.number().int().min(1).max(1000).describe('API keys the queries are spread over (the keys themselves are given to the oracle pool, never recorded)'),
    rotate: z
      .enum(['spread', 'fail-over'])
      .default('spread')
      .describe("'spread': each call goes to the next key in turn; 'fail-over': one key until the server suspends or refuses it for budget, then the next"),
    perKeyBudget: z.number().int().min(1).optional().describe('queries the client books at most on each key (default: the attack budget ÷ keys, rounded up)'),
  })
  .describe('many accounts: the attack spreads its queries over k API keys');
export type Accounts = z.output<typeof Accounts>;

export const Adaptive = z
  .strictObject({
    blind: Blind.optional(),
    rejectionAware: RejectionAware.optional(),
    accounts: Accounts.optional(),
  })
  .describe('what the adaptive attacker does about a stateful detector');
export type Adaptive = z.output<typeof Adaptive>;

/** No adaptation at all: the plain attacker. */
export const isPlain = (a: Adaptive | undefined): boolean => !a || (!a.blind && !a.rejectionAware && !a.accounts);

/**
 * Writes into `out` a blinded copy of `x` ([C, H, W]): shifted by (dy, dx) with edge pixels
 * repeated, plus N(0, (noise · range width)²) per value, clipped to the range.
 */
export function blindInto(
  x: Float32Array,
  out: Float32Array,
  shape: readonly [number, number, number],
  range: readonly [number, number],
  noise: number,
  dy: number,
  dx: number,
  rng: Rng,
): Float32Array {
  const [c, h, w] = shape;
  const [lo, hi] = range;
  if (dx === 0 && dy === 0) out.set(x);
  else {
    for (let ch = 0; ch < c; ch++) {
      const base = ch * h * w;
      for (let r = 0; r < h; r++) {
        const sr = Math.min(h - 1, Math.max(0, r - dy));
        for (let col = 0; col < w; col++) out[base + r * w + col] = x[base + sr * w + Math.min(w - 1, Math.max(0, col - dx))];
      }
    }
  }
  if (noise > 0) {
    const std = noise * (hi - lo);
    for (let i = 0; i < out.length; i++) {
      const v = out[i] + std * rng.normal();
      out[i] = Math.min(hi, Math.max(lo, v));
    }
  }
  return out;
}

/**
 * The blinding layer: an oracle that asks `inner` about a fresh random transformation of each
 * point (`blindInto`). Its noise scale may be changed between calls (the rejection-aware layer
 * grows it). The caller's batch is left as it asked it: the attack keeps its own point, and the
 * decision it receives is the one taken on the blinded point.
 */
export class BlindedOracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  readonly gridStep: number | undefined;
  private readonly size: number;
  /** Current per-value noise std on the 0–1 scale. */
  noise: number;
  readonly shift: number;

  constructor(
    readonly inner: Oracle,
    blind: Blind,
    private readonly rng: Rng,
  ) {
    this.inputShape = inner.inputShape;
    this.range = inner.range;
    this.gridStep = inner.gridStep;
    this.size = inner.inputShape.reduce((a, b) => a * b, 1);
    this.noise = blind.noise;
    this.shift = blind.shift;
  }

  onGrid(x: Float32Array): Promise<Float32Array> {
    return this.inner.onGrid ? this.inner.onGrid(x) : Promise.resolve(x.slice());
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const size = this.size;
    const blinded = new Float32Array(count * size);
    const s = this.shift;
    for (let i = 0; i < count; i++) {
      const dy = s > 0 ? Math.floor(this.rng.uniform() * (2 * s + 1)) - s : 0;
      const dx = s > 0 ? Math.floor(this.rng.uniform() * (2 * s + 1)) - s : 0;
      blindInto(
        batch.subarray(i * size, (i + 1) * size),
        blinded.subarray(i * size, (i + 1) * size),
        this.inputShape,
        this.range,
        this.noise,
        dy,
        dx,
        this.rng,
      );
    }
    return this.inner.predict(blinded, count);
  }
}

/**
 * What each key of the pool spent, as the client booked it (the key itself is never recorded: only
 * its index): queries charged on it (answered and refused), refused, and whether it was dropped
 * (the server suspended it, 403 key_suspended, or refused it for budget, 429).
 */
export type AccountUse = z.infer<typeof AccountUseSchema>;

/**
 * Many accounts: one oracle per API key, the same endpoint. Each call goes, whole, to one key
 * (`spread`: the next key in turn; `fail-over`: the current key until it is refused), with room on
 * it under `perKeyBudget` (the client's own book per key; the server's budget per key is the
 * other). A key the server suspends is dropped; a 429 budget refusal (nothing charged) is asked
 * again of the next key. When no key is left: `QueryRefused('accounts_suspended')` (or
 * `BudgetExhausted` when the keys left have no room), nothing sent.
 */
export class AccountPool implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  readonly gridStep: number | undefined;
  readonly use: AccountUse[];
  private next = 0;

  constructor(
    readonly oracles: readonly Oracle[],
    readonly rotate: Accounts['rotate'],
    readonly perKeyBudget: number,
  ) {
    if (oracles.length === 0) throw new RangeError('AccountPool: no key given');
    this.inputShape = oracles[0].inputShape;
    this.range = oracles[0].range;
    this.gridStep = oracles[0].gridStep;
    this.use = oracles.map(() => ({ queries: 0, refused: 0, dropped: null }));
  }

  onGrid(x: Float32Array): Promise<Float32Array> {
    const o = this.oracles[0];
    return o.onGrid ? o.onGrid(x) : Promise.resolve(x.slice());
  }

  /** Keys used at all. */
  get accountsUsed(): number {
    return this.use.filter((u) => u.queries > 0).length;
  }

  /** The key the next call of `count` inputs goes to, or why none can take it. */
  private pick(count: number): number | 'none-left' | 'no-room' {
    const k = this.oracles.length;
    let live = false;
    for (let j = 0; j < k; j++) {
      const i = (this.next + j) % k;
      const u = this.use[i];
      if (u.dropped) continue;
      live = true;
      if (u.queries + count <= this.perKeyBudget) return i;
    }
    return live ? 'no-room' : 'none-left';
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    for (;;) {
      const i = this.pick(count);
      if (i === 'none-left') throw new QueryRefused(`every one of the ${this.oracles.length} keys is suspended or out of budget`, 'accounts_suspended');
      if (i === 'no-room') throw new BudgetExhausted(`no key of the pool has ${count} queries left of its ${this.perKeyBudget}`);
      const u = this.use[i];
      if (this.rotate === 'spread') this.next = (i + 1) % this.oracles.length;
      else this.next = i;
      try {
        const labels = await this.oracles[i].predict(batch, count);
        u.queries += count;
        return labels;
      } catch (err) {
        if (err instanceof QueryRefused) {
          u.queries += err.charged;
          u.refused += err.refused;
          if (err.code === 'key_suspended') u.dropped = 'suspended';
          // fail-over: a refused key hands over to the next (its history stays with it).
          if (this.rotate === 'fail-over') this.next = (i + 1) % this.oracles.length;
          throw err;
        }
        if (err instanceof BudgetExhausted) {
          u.queries += err.charged;
          if (err instanceof BudgetRefused) {
            u.dropped = 'budget';
            // Nothing of it charged: the same call goes to the next key.
            if (err.charged === 0) continue;
          }
        }
        throw err;
      }
    }
  }
}

/**
 * The attack's counting oracle when the attacker adapts: every model call still passes through
 * CountingOracle (budget checked before each, every query booked, refused ones counted), but a
 * rejection-aware or many-account attacker asks one point per call (the server refuses a whole
 * request: a refusal then costs the one point it concerns) and resamples a refused point, each
 * resample one more counted query, up to `retries` times: with a grown blinding noise when the
 * recent rejection rate exceeds the target (rejection-aware), on the next key (accounts). A point
 * still refused is answered REFUSED (−2): no attack takes it for adversarial.
 */
class AdaptiveCountingOracle extends CountingOracle {
  /** The recent answers: true where refused (a ring of `window`). */
  private readonly recent: boolean[] = [];
  /** Blinding noise over the run: the largest it reached. */
  maxNoise: number;

  constructor(
    inner: Oracle,
    originalLabel: number,
    budget: number,
    spent: QueryCounts | undefined,
    cost: number,
    readonly layers: { blind?: BlindedOracle; pool?: AccountPool; rejectionAware?: RejectionAware; retries: number },
  ) {
    super(inner, originalLabel, budget, spent, cost);
    this.maxNoise = layers.blind?.noise ?? 0;
  }

  /** The rejection rate over the recent window. */
  get recentRate(): number {
    return this.recent.length ? this.recent.filter(Boolean).length / this.recent.length : 0;
  }

  override async labels(batch: Float32Array, count: number): Promise<Int32Array> {
    const out = new Int32Array(count);
    const size = this.inputSize;
    for (let i = 0; i < count; i++) out[i] = await this.one(batch.subarray(i * size, (i + 1) * size));
    return out;
  }

  private async one(x: Float32Array): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [label] = await super.labels(x, 1);
        this.observe(false);
        return label;
      } catch (err) {
        if (!(err instanceof QueryRefused) || err.code === 'accounts_suspended') throw err;
        this.observe(true);
        // With a single key that the server suspended, nothing more can be asked.
        if (err.code === 'key_suspended' && !this.layers.pool) throw err;
        if (attempt >= this.layers.retries) return REFUSED;
      }
    }
  }

  /** OARS-style adaptation of the blinding scale to the recent rejection rate. */
  private observe(refused: boolean): void {
    const ra = this.layers.rejectionAware;
    const blind = this.layers.blind;
    if (!ra || !blind) return;
    this.recent.push(refused);
    if (this.recent.length > ra.window) this.recent.shift();
    const floor = this.floorNoise;
    if (refused && this.recentRate > ra.targetRate) {
      blind.noise = Math.min(ra.maxNoise, Math.max(blind.noise * ra.growth, ra.startNoise));
      this.maxNoise = Math.max(this.maxNoise, blind.noise);
    } else if (!refused && this.recentRate <= ra.targetRate && blind.noise > floor) {
      // Below target: shrink back toward the starting scale by one growth factor per window of
      // unrefused answers (the least noise that keeps the rate under the target distorts least).
      const shrunk = blind.noise / ra.growth ** (1 / ra.window);
      blind.noise = shrunk < Math.max(floor, ra.startNoise / ra.growth) ? floor : shrunk;
    }
  }

  /** The blinding noise the attacker started from (it never goes below). */
  floorNoise = 0;
}

/** The label answered for a point the endpoint kept refusing: not an answer, never adversarial. */
export const REFUSED = -2;

/** How a run's counting oracle is built: the pool of oracles (one per key), the label, budget, and the attacker's seed. */
export interface AdaptiveRun {
  originalLabel: number;
  budget: number;
  spent?: QueryCounts;
  cost?: number;
  /** The attacker's own randomness for blinding. */
  seed: number;
}

/**
 * The oracle layers alone (accounts pool, blinding) without the counting: for callers that count
 * elsewhere. A refused query is not resampled here (that takes the counting oracle's budget):
 * `adaptiveCounting` is the whole adaptive attacker.
 * @public for a library caller that counts queries itself (no caller in this repository yet)
 */
export function adaptOracle(pool: Oracle | readonly Oracle[], adaptive: Adaptive | undefined, seed: number, budget = Number.MAX_SAFE_INTEGER): Oracle {
  const oracles: readonly Oracle[] = Array.isArray(pool) ? (pool as readonly Oracle[]) : [pool as Oracle];
  if (oracles.length === 0) throw new RangeError('adaptOracle: no oracle given');
  const a = adaptive ?? {};
  if (a.rejectionAware) throw new RangeError('rejectionAware resamples through the counting oracle: use adaptiveCounting, or runAttack({ adaptive, pool })');
  const pooled = a.accounts ? new AccountPool(oracles, a.accounts.rotate, a.accounts.perKeyBudget ?? Math.ceil(budget / oracles.length)) : oracles[0];
  return a.blind ? new BlindedOracle(pooled, a.blind, Rng.seeded(seed)) : pooled;
}

/**
 * The attack's counting oracle for `adaptive` (none: the plain CountingOracle). `pool` is the
 * endpoint through each of the attacker's keys (one oracle, or one per key with `accounts`). Wrap
 * the endpoint oracle itself (not an oracle that repeats each point): every endpoint query is
 * then blinded, each repeat of a sequential test included.
 */
export function adaptiveCounting(pool: Oracle | readonly Oracle[], adaptive: Adaptive | undefined, run: AdaptiveRun): CountingOracle {
  const oracles: readonly Oracle[] = Array.isArray(pool) ? (pool as readonly Oracle[]) : [pool as Oracle];
  if (oracles.length === 0) throw new RangeError('adaptiveCounting: no oracle given');
  const a = adaptive ?? {};
  const cost = run.cost ?? 1;
  if (isPlain(a)) return new CountingOracle(oracles[0], run.originalLabel, run.budget, run.spent, cost);
  if (a.accounts && a.accounts.keys !== oracles.length) throw new RangeError(`accounts.keys is ${a.accounts.keys} but ${oracles.length} key(s) were given`);
  if (!a.accounts && oracles.length > 1) throw new RangeError(`${oracles.length} keys given without accounts`);
  const pooled = a.accounts ? new AccountPool(oracles, a.accounts.rotate, a.accounts.perKeyBudget ?? Math.ceil(run.budget / oracles.length)) : undefined;
  const ra = a.rejectionAware;
  // Rejection-aware without blind starts unblinded (noise 0) and blinds once refused.
  const blindSettings = a.blind ?? (ra ? { noise: 0, shift: 0 } : undefined);
  const blind = blindSettings ? new BlindedOracle(pooled ?? oracles[0], blindSettings, Rng.seeded(run.seed)) : undefined;
  const inner: Oracle = blind ?? pooled ?? oracles[0];
  // Blinding alone: the plain counting (a refusal ends the attack, as for any attacker that does not adapt to it).
  if (!ra && !pooled) return new CountingOracle(inner, run.originalLabel, run.budget, run.spent, cost);
  const retries = ra ? ra.retries : oracles.length;
  const counting = new AdaptiveCountingOracle(inner, run.originalLabel, run.budget, run.spent, cost, { blind, pool: pooled, rejectionAware: ra, retries });
  counting.floorNoise = blindSettings?.noise ?? 0;
  return counting;
}

const AccountUseSchema = z.object({
  queries: z.number().int(),
  refused: z.number().int(),
  dropped: z.enum(['suspended', 'budget']).nullable(),
});

/** What a run saw of the endpoint's detector and its adaptive layers, for its record (no key: only indices). */
export const AdaptiveOutcome = z.object({
  /** Queries the endpoint refused (charged, so also in the run's queries). */
  refused: z.number().int(),
  /** Queries spent when the first refusal came (it included), or null: queries to first detection. */
  firstRefusedAt: z.number().int().nullable(),
  /** Keys that asked at least one query (1 without a pool). */
  accountsUsed: z.number().int(),
  accountsSuspended: z.number().int(),
  /** Per key of the pool: queries booked (answered and refused), refused, dropped; null without a pool. */
  perAccount: z.array(AccountUseSchema).nullable(),
  /** OARS's cost if every refusal got its account banned: queries + refused (their analysis.py), and the accounts that takes (refused + 1). */
  queriesIfBanned: z.number().int(),
  accountsIfBanned: z.number().int(),
  /** Largest blinding noise used (0–1 scale), or null unblinded. */
  maxNoise: z.number().nullable(),
});
export type AdaptiveOutcome = z.infer<typeof AdaptiveOutcome>;

export function adaptiveOutcome(counting: CountingOracle): AdaptiveOutcome {
  const c = counting.counts();
  const refused = c.refused ?? 0;
  const pool = counting instanceof AdaptiveCountingOracle ? counting.layers.pool : undefined;
  const blind = counting instanceof AdaptiveCountingOracle ? counting.layers.blind : counting.inner instanceof BlindedOracle ? counting.inner : undefined;
  const maxNoise = counting instanceof AdaptiveCountingOracle ? counting.maxNoise : blind ? blind.noise : null;
  return {
    refused,
    firstRefusedAt: c.firstRefusedAt ?? null,
    accountsUsed: pool ? pool.accountsUsed : c.total > 0 ? 1 : 0,
    accountsSuspended: pool ? pool.use.filter((u) => u.dropped === 'suspended').length : 0,
    perAccount: pool ? pool.use.map((u) => ({ ...u })) : null,
    queriesIfBanned: c.total + refused,
    accountsIfBanned: refused + 1,
    maxNoise: blind || maxNoise ? maxNoise : null,
  };
}
