// The server's Gaussian noise source: the WebAssembly SIMD kernel of shared/native/noise.c (eight
// xoshiro128** lanes + Box-Muller in float32), ~4× faster than the JavaScript ziggurat of rng.ts,
// with the same fillNormal contract. At ImageNet size one RS query with n = 100 needs 15 million
// normals, and onnxruntime-node's run blocks the event loop, so noise time adds straight to latency.
import { readFileSync } from 'node:fs';
import { Rng } from './rng.js';

/** What randomized smoothing needs of a noise generator (Rng and NoiseSource both qualify). */
export interface NoiseGenerator {
  /** out = mean + std·N(0, I); a vector mean repeats (its length must divide out.length). */
  fillNormal(out: Float32Array, mean?: number | Float32Array, std?: number): Float32Array;
  /**
   * Optional: a buffer (or any subarray of it) that fillNormal fills in place, without a copy, for
   * the caller to hand to the model. Valid until the next scratch() or fillNormal on another buffer.
   */
  scratch?(length: number): Float32Array;
}

interface Kernel {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  seed(ptr: number): void;
  fill_noisy(out: number, x: number, d: number, copies: number, sigma: number): void;
  fill_normal(out: number, len: number, mean: number, sigma: number): void;
}

let module: WebAssembly.Module | undefined;
function compiled(): WebAssembly.Module {
  module ??= new WebAssembly.Module(readFileSync(new URL('../native/noise.wasm', import.meta.url)));
  return module;
}

const STATE_WORDS = 32;

/**
 * Most values one fill works on at once (32 MiB of float32). WebAssembly memory never shrinks, so
 * the work area is capped: a larger copied fill runs in pieces, and a scratch view is never larger
 * (randomized smoothing sizes its chunks of noisy copies to fit).
 */
export const MAX_SCRATCH_VALUES = 1 << 23;

export class NoiseSource implements NoiseGenerator {
  private readonly k: Kernel;
  private readonly base: number;
  /** Values that fit in each half of the work area: [lower: mean vector | upper: output]. */
  private capacity = 0;

  private constructor(words: Uint32Array) {
    this.k = new WebAssembly.Instance(compiled()).exports as unknown as Kernel;
    this.base = (Number(this.k.__heap_base.value) + 15) & ~15;
    this.reserve(1024);
    // A generator must not start all-zero: make each lane's first word odd.
    for (let lane = 0; lane < 8; lane++) words[(lane >> 2) * 16 + (lane & 3)] |= 1;
    new Uint32Array(this.k.memory.buffer, this.base, STATE_WORDS).set(words);
    this.k.seed(this.base);
  }

  /** Reproducible: the same seed gives the same noise. */
  static seeded(seed: number): NoiseSource {
    const rng = Rng.seeded(seed);
    return new NoiseSource(Uint32Array.from({ length: STATE_WORDS }, () => rng.nextUint32()));
  }

  /** Unpredictable: 1024 bits of state from the OS CSPRNG. */
  static fromCrypto(): NoiseSource {
    const rng = Rng.fromCrypto();
    return new NoiseSource(Uint32Array.from({ length: STATE_WORDS }, () => rng.nextUint32()));
  }

  scratch(length: number): Float32Array {
    if (length > MAX_SCRATCH_VALUES) throw new RangeError(`scratch of ${length} values exceeds the cap of ${MAX_SCRATCH_VALUES}`);
    this.reserve(length);
    return new Float32Array(this.k.memory.buffer, this.upper(), length);
  }

  fillNormal(out: Float32Array, mean: number | Float32Array = 0, std = 1): Float32Array {
    const period = typeof mean === 'number' ? 1 : mean.length;
    if (period === 0 || out.length % period !== 0) {
      throw new RangeError(`mean vector length ${period} must divide output length ${out.length}`);
    }
    if (out.length === 0) return out;
    if (out.length > MAX_SCRATCH_VALUES) {
      // In pieces of whole mean periods, so a vector mean stays aligned.
      const piece = Math.floor(MAX_SCRATCH_VALUES / period) * period;
      if (piece === 0) throw new RangeError(`mean vector of ${period} values exceeds the cap of ${MAX_SCRATCH_VALUES}`);
      for (let at = 0; at < out.length; at += piece) this.fillNormal(out.subarray(at, Math.min(out.length, at + piece)), mean, std);
      return out;
    }
    // In place when `out` lies inside the current scratch area (a scratch() view or a subarray of one).
    const inPlace =
      out.buffer === this.k.memory.buffer && out.byteOffset >= this.upper() && out.byteOffset + out.byteLength <= this.upper() + this.capacity * 4;
    if (!inPlace) this.reserve(out.length);
    const outPtr = inPlace ? out.byteOffset : this.upper();
    if (typeof mean === 'number') {
      this.k.fill_normal(outPtr, out.length, mean, std);
    } else {
      new Float32Array(this.k.memory.buffer, this.lower(), period).set(mean);
      this.k.fill_noisy(outPtr, this.lower(), period, out.length / period, std);
    }
    if (!inPlace) out.set(new Float32Array(this.k.memory.buffer, outPtr, out.length));
    return out;
  }

  private lower(): number {
    return this.base + STATE_WORDS * 4;
  }

  private upper(): number {
    return this.lower() + this.capacity * 4;
  }

  /** Grows the work area to hold `length` values in each half (growing detaches old scratch views). */
  private reserve(length: number): void {
    if (length <= this.capacity) return;
    const capacity = Math.min(MAX_SCRATCH_VALUES, Math.max(length, this.capacity * 2));
    const needed = this.base + STATE_WORDS * 4 + 2 * capacity * 4;
    const have = this.k.memory.buffer.byteLength;
    if (needed > have) this.k.memory.grow(Math.ceil((needed - have) / 65536));
    this.capacity = capacity;
  }
}
