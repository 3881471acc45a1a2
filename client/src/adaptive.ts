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
// This file holds the one schema (`Adaptive`) the CLI and the experiments share, and the blinding
// layer; the many-account pool and the rejection-aware counting are below it.
import { Rng } from '@rs-arena/shared/rng';
import { z } from 'zod';
import type { Oracle } from './oracle.js';

export const Blind = z
  .strictObject({
    noise: z.number().min(0).max(1).describe('std of the Gaussian noise added to each value of every query, on the 0–1 scale of the input range (clipped to the range)'),
    shift: z.number().int().min(0).max(8).default(0).describe('largest random integer shift in pixels along each axis before the noise (edge pixels repeated); 0: none'),
  })
  .describe('query blinding: each query is a random transformation of the point asked about');
export type Blind = z.output<typeof Blind>;

export const RejectionAware = z
  .strictObject({
    targetRate: z.number().min(0).max(1).default(0.05).describe('rejection rate over the recent window the attacker tries to stay under'),
    window: z.number().int().min(1).max(10_000).default(20).describe('recent queries over which the rejection rate is measured'),
    growth: z.number().gt(1).max(10).default(2).describe('factor by which the blinding noise grows while the recent rate exceeds the target (and shrinks back toward its start below it)'),
    startNoise: z.number().min(0).max(1).default(0.002).describe('blinding noise to start from when `blind` gives none (0–1 scale)'),
    maxNoise: z.number().gt(0).max(1).default(0.064).describe('blinding noise never grows beyond this'),
    retries: z.number().int().min(0).max(100).default(4).describe('times a refused point is resampled (with fresh, grown blinding) before the attack is told it is not adversarial'),
  })
  .describe('rejection-aware search (OARS): refused points are resampled with more blinding, keeping the recent rejection rate under a target');
export type RejectionAware = z.output<typeof RejectionAware>;

export const Accounts = z
  .strictObject({
    keys: z.number().int().min(1).max(1000).describe('API keys the queries are spread over (the keys themselves are given to the oracle pool, never recorded)'),
    rotate: z.enum(['spread', 'fail-over']).default('spread').describe("'spread': each call goes to the next key in turn; 'fail-over': one key until the server suspends or refuses it for budget, then the next"),
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
export type AdaptiveInput = z.input<typeof Adaptive>;

/** No adaptation at all: the plain attacker. */
export const isPlain = (a: Adaptive | undefined): boolean => !a || (!a.blind && !a.rejectionAware && !a.accounts);

/**
 * Writes into `out` a blinded copy of `x` ([C, H, W]): shifted by (dy, dx) with edge pixels
 * repeated, plus N(0, (noise · range width)²) per value, clipped to the range.
 */
export function blindInto(x: Float32Array, out: Float32Array, shape: readonly [number, number, number], range: readonly [number, number], noise: number, dy: number, dx: number, rng: Rng): Float32Array {
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
      out[i] = v < lo ? lo : v > hi ? hi : v;
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
      blindInto(batch.subarray(i * size, (i + 1) * size), blinded.subarray(i * size, (i + 1) * size), this.inputShape, this.range, this.noise, dy, dx, this.rng);
    }
    return this.inner.predict(blinded, count);
  }
}

/**
 * The oracle an adaptive attacker queries: `pool` is the endpoint as seen through each of its keys
 * (one oracle, or one per key with `accounts`), `seed` the attacker's own randomness for blinding.
 */
export function adaptOracle(pool: Oracle | readonly Oracle[], adaptive: Adaptive | undefined, seed: number): Oracle {
  const oracles = Array.isArray(pool) ? (pool as readonly Oracle[]) : [pool as Oracle];
  if (oracles.length === 0) throw new RangeError('adaptOracle: no oracle given');
  const a = adaptive ?? {};
  if (a.accounts) throw new Error('adaptive accounts: not implemented yet');
  if (a.rejectionAware) throw new Error('adaptive rejectionAware: not implemented yet');
  let oracle: Oracle = oracles[0];
  if (a.blind) oracle = new BlindedOracle(oracle, a.blind, Rng.seeded(seed));
  return oracle;
}
