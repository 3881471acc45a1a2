// Blacklight's probabilistic fingerprint of a query (Li et al., USENIX Security 2022; the official
// release's InputTracker): scale to 0–255, add a per-pixel secret salt modulo 255, quantize to the
// nearest multiple of `step` (about 6 levels at 50), hash every window of `window` consecutive
// values (the flattened query, `stride` apart), and keep the `keep` hashes that come first in a
// fixed order of hash values. Two queries that share many windows (an attack's probes around one
// point) share many of these hashes; the salt is the deployment's secret, so an attacker cannot
// compute fingerprints offline to steer clear of them.
//
// The window hash: SHA-256 as in the release ('sha256'), or by default a 64-bit keyed hash (two
// MurmurHash3 lanes seeded from the secret, 'keyed'): SHA-256 through node:crypto costs ~4.5 µs a
// call, 28 ms per ImageNet query (6,019 windows), more than a MobileNetV2 forward pass; the keyed
// hash takes ~1 ms there (npm run bench:defenses). Only equality and a fixed order of hashes
// matter, and the keyed one is unknown to clients too.
import { createHash, hash } from 'node:crypto';

export interface FingerprintSettings {
  /** Quantization step on the 0–255 scale. */
  step: number;
  window: number;
  stride: number;
  /** Hashes kept per query. */
  keep: number;
  hash: 'keyed' | 'sha256';
  /** Skip windows whose unsalted quantized values are all equal (flat background: shared by every image). */
  skipFlat: boolean;
}

/** Window and stride of the official release by input size: 20/1 for small images (CIFAR), 50/25 at ImageNet size (the OARS configs). */
export function defaultWindow(inputSize: number): { window: number; stride: number } {
  return inputSize <= 16_384 ? { window: 20, stride: 1 } : { window: 50, stride: 25 };
}

/** The per-pixel salt in [0, 255) drawn from the deployment's secret (SHA-256 in counter mode). */
export function saltFrom(secret: Buffer, size: number): Float32Array {
  const salt = new Float32Array(size);
  for (let block = 0, at = 0; at < size; block++) {
    const bytes = createHash('sha256').update(secret).update(`salt:${block}`).digest();
    for (let w = 0; w < 8 && at < size; w++, at++) salt[at] = (bytes.readUInt32LE(w * 4) / 2 ** 32) * 255;
  }
  return salt;
}

/** The quantized, salted query: one level (0 to ⌈255/step⌉) per value. */
export function quantize(x: Float32Array, range: readonly [number, number], salt: Float32Array, step: number, out = new Uint8Array(x.length)): Uint8Array {
  const [lo, hi] = range;
  const scale = 255 / (hi - lo);
  const inv = 1 / step;
  for (let i = 0; i < x.length; i++) {
    // (x + salt) mod 255 for x, salt in [0, 255): one subtraction (the % operator costs 4× more).
    let v = (x[i] - lo) * scale + salt[i];
    if (v >= 255) v -= 255;
    out[i] = (v * inv + 0.5) | 0;
  }
  return out;
}

/** The hash key of the 'keyed' window hash, from the deployment's secret. */
export function hashKeyFrom(secret: Buffer): Uint32Array {
  const b = createHash('sha256').update(secret).update('window-hash').digest();
  return Uint32Array.of(b.readUInt32LE(0), b.readUInt32LE(4));
}

/** The fingerprint: up to `keep` distinct window hashes (53-bit, as 14 hex digits), largest first. */
export function fingerprint(x: Float32Array, range: readonly [number, number], salt: Float32Array, s: FingerprintSettings, key?: Uint32Array): string[] {
  const q = quantize(x, range, salt, s.step);
  const windows = Math.max(0, Math.floor((q.length - s.window + 1) / s.stride));
  const flat = s.skipFlat ? flatRuns(x, range, s.step) : undefined;
  const hashes = new Float64Array(windows);
  let kept = 0;
  let flatAt = windows; // flat windows' hashes fill the array from its end
  if (s.hash !== 'sha256' && !key) throw new Error('the keyed window hash needs its key');
  const k2 = key ? key[1] ^ 0x9e3779b9 : 0;
  for (let w = 0; w < windows; w++) {
    const at = w * s.stride;
    let h: number;
    if (s.hash === 'sha256') {
      const d = hash('sha256', q.subarray(at, at + s.window), 'buffer') as unknown as Buffer;
      h = d.readUInt32BE(0) * 2 ** 21 + (d.readUInt32BE(4) >>> 11);
    } else {
      h = murmur(q, at, s.window, key![0]) * 2 ** 21 + (murmur(q, at, s.window, k2) >>> 11);
    }
    if (flat && flat[at] >= s.window) hashes[--flatAt] = h;
    else hashes[kept++] = h;
  }
  const top = topHashes(hashes.subarray(0, kept), s.keep);
  // A query with fewer informative windows than `keep` (a nearly blank image) is filled up with
  // flat ones: it must not escape detection by having no fingerprint.
  return top.length < s.keep ? [...top, ...topHashes(hashes.subarray(flatAt), s.keep - top.length)] : top;
}

/** For each position, how many values from it on have its unsalted quantized level (a window there is flat when that is ≥ its size). */
function flatRuns(x: Float32Array, [lo, hi]: readonly [number, number], step: number): Uint32Array {
  const scale = 255 / (hi - lo) / step;
  const run = new Uint32Array(x.length);
  let next = -1;
  for (let i = x.length - 1; i >= 0; i--) {
    const level = ((x[i] - lo) * scale + 0.5) | 0;
    run[i] = level === next && i + 1 < x.length ? run[i + 1] + 1 : 1;
    next = level;
  }
  return run;
}

function topHashes(hashes: Float64Array, keep: number): string[] {
  const windows = hashes.length;
  // A fixed order on the hash values (largest first): the kept ones are a random-looking but
  // reproducible subset of the windows. Numbers sort natively, far faster than strings.
  hashes.sort();
  const out: string[] = [];
  for (let i = windows - 1; i >= 0 && out.length < keep; i--) {
    if (i < windows - 1 && hashes[i] === hashes[i + 1]) continue;
    out.push(hashes[i].toString(16).padStart(14, '0'));
  }
  return out;
}

/** MurmurHash3 (x86, 32-bit) of `length` bytes of `q` from `at`: 4-byte blocks, then the tail. */
function murmur(q: Uint8Array, at: number, length: number, seed: number): number {
  let h = seed | 0;
  const end = at + length;
  const blocks = at + (length & ~3);
  let i = at;
  for (; i < blocks; i += 4) {
    let k = q[i] | (q[i + 1] << 8) | (q[i + 2] << 16) | (q[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < end) {
    let k = 0;
    for (let j = end - 1; j >= i; j--) k = (k << 8) | q[j];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
