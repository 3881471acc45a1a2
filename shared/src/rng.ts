// A fast, seedable pseudo-random generator for the RS noise: xoshiro128** for 32-bit words (pure
// 32-bit integer arithmetic, which JavaScript does fast through Math.imul), uniforms from those
// words, and standard normals by Marsaglia & Tsang's ziggurat (128 layers). The server needs
// millions of normals per query at ImageNet size, so the hot path is one word per normal, no
// transcendental function in ~98.8% of draws.
import { randomBytes } from 'node:crypto';

const LAYERS = 128;
const R = 3.442619855899; // right edge of the base layer for 128 layers
const V = 9.91256303526217e-3; // area of each layer
const SCALE = 2 ** 24; // 24 magnitude bits per draw: as fine as a float32 mantissa

/**
 * Layer tables: K[i] = acceptance bound on the 24-bit magnitude, W[i] = x_i / 2^24, F[i] = exp(-x_i²/2).
 * Int32Array/Float64Array on purpose: V8 loads them without boxing (a Uint32Array load may not fit a
 * small integer and halves the speed).
 */
const K = new Int32Array(LAYERS);
const W = new Float64Array(LAYERS);
const F = new Float64Array(LAYERS);
{
  let x = R;
  const q = V / Math.exp(-0.5 * x * x);
  K[0] = Math.floor((x / q) * SCALE);
  K[1] = 0;
  W[0] = q / SCALE;
  W[LAYERS - 1] = x / SCALE;
  F[0] = 1;
  F[LAYERS - 1] = Math.exp(-0.5 * x * x);
  for (let i = LAYERS - 2; i >= 1; i--) {
    const prev = x;
    x = Math.sqrt(-2 * Math.log(V / x + Math.exp(-0.5 * x * x)));
    K[i + 1] = Math.floor((x / prev) * SCALE);
    F[i] = Math.exp(-0.5 * x * x);
    W[i] = x / SCALE;
  }
}

/** splitmix32: spreads a seed into well-mixed state words (xoshiro must not start all-zero). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(words: [number, number, number, number]) {
    [this.a, this.b, this.c, this.d] = words;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A reproducible stream: the same seed always gives the same numbers. */
  static seeded(seed: number): Rng {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    // Fold both halves of a 53-bit seed in, so seeds above 2^32 differ too.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2d) };
    return new Rng([splitmix32(st), splitmix32(st), splitmix32(st), splitmix32(st)]);
  }

  /** A stream from 128 bits of state (e.g. a keyed hash); not all zero. */
  static fromWords(words: [number, number, number, number]): Rng {
    if (words.every((w) => w >>> 0 === 0)) words = [1, 0, 0, 0];
    return new Rng(words.map((w) => w >>> 0) as [number, number, number, number]);
  }

  /** An unpredictable stream, seeded with 128 bits from the operating system's CSPRNG. */
  static fromCrypto(): Rng {
    const buf = randomBytes(16);
    return new Rng([buf.readUInt32LE(0), buf.readUInt32LE(4), buf.readUInt32LE(8), buf.readUInt32LE(12)]);
  }

  /** xoshiro128**: the next 32-bit word as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A standard normal double (ziggurat). One 32-bit word gives the layer (7 low bits) and a signed
   * 25-bit h; the value is (h + ½)·W[i], symmetric about 0, accepted when its magnitude is inside the
   * layer's rectangle (~98.8% of draws).
   */
  normal(): number {
    for (;;) {
      const u = this.nextUint32() | 0;
      const i = u & 127;
      const h = u >> 7;
      const mag = h ^ (h >> 31);
      if (mag < K[i]) return (h + 0.5) * W[i];
      const y = this.slowNormal(i, (mag + 0.5) * W[i]);
      if (y !== undefined) return h < 0 ? -y : y;
    }
  }

  /** Rare ziggurat path: the base layer's tail, or a wedge test under the density. */
  private slowNormal(i: number, x: number): number | undefined {
    if (i === 0) {
      // Marsaglia's tail method for x > R.
      let t: number;
      let y: number;
      do {
        t = -Math.log(1 - this.uniform()) / R;
        y = -Math.log(1 - this.uniform());
      } while (y + y < t * t);
      return R + t;
    }
    return F[i] + this.uniform() * (F[i - 1] - F[i]) < Math.exp(-0.5 * x * x) ? x : undefined;
  }

  /** Fills `out` with uniforms in [lo, hi) (24 random bits each: float32 resolution). */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    const span = (hi - lo) / SCALE;
    for (let j = 0; j < out.length; j++) out[j] = lo + (this.nextUint32() >>> 8) * span;
    return out;
  }

  /**
   * Fills `out` with N(mean, std²) samples. `mean` may be a vector whose length divides
   * out.length: it then repeats, so `fillNormal(out, x, σ)` writes the noisy copies x + σN of x
   * for randomized smoothing in one pass. This is the server's noise source, hence the care:
   * the generator state lives in locals, the first pass has no data-dependent branch but the rare
   * rejection, and rejected draws (~1.2%) are finished in a second pass with the exact slow path.
   */
  fillNormal(out: Float32Array, mean: number | Float32Array = 0, std = 1): Float32Array {
    const mu = typeof mean === 'number' ? Float32Array.of(mean) : mean;
    const period = mu.length;
    if (period === 0 || out.length % period !== 0) {
      throw new RangeError(`mean vector length ${period} must divide output length ${out.length}`);
    }
    let rejected = this.rejected;
    let nRejected = 0;
    let a = this.a,
      b = this.b,
      c = this.c,
      d = this.d;
    for (let j = 0, k = 0; j < out.length; j++) {
      const u = Math.imul(rotl(Math.imul(b, 5), 7), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      const i = u & 127;
      const h = u >> 7;
      out[j] = mu[k] + std * (h + 0.5) * W[i];
      if (++k === period) k = 0;
      if ((h ^ (h >> 31)) >= K[i]) {
        if (2 * nRejected === rejected.length) rejected = this.growRejected();
        rejected[2 * nRejected] = j;
        rejected[2 * nRejected + 1] = u;
        nRejected++;
      }
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    for (let r = 0; r < nRejected; r++) {
      const j = rejected[2 * r];
      const u = rejected[2 * r + 1];
      const i = u & 127;
      const h = u >> 7;
      const y = this.slowNormal(i, ((h ^ (h >> 31)) + 0.5) * W[i]);
      const z = y === undefined ? this.normal() : h < 0 ? -y : y;
      out[j] = mu[j % period] + std * z;
    }
    return out;
  }

  private rejected: Int32Array = new Int32Array(4096);
  private growRejected(): Int32Array {
    const grown = new Int32Array(this.rejected.length * 2);
    grown.set(this.rejected);
    return (this.rejected = grown);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
