// Blacklight's fingerprint: exact repeats share every hash, tiny probes (an HSJA step) most, noise
// at an RS scale almost none; the secret decides the hashes; flat windows are skipped unless the
// query has too few others; the keyed and SHA-256 window hashes behave alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Rng } from '@rs-arena/shared/rng';
import { defaultWindow, fingerprint, hashKeyFrom, quantize, saltFrom, type FingerprintSettings } from '../../../server/src/fingerprint.js';
import { images } from '../../helpers/app.js';

const shared = (a: string[], b: string[]) => a.filter((h) => b.includes(h)).length;

for (const hash of ['keyed', 'sha256'] as const) {
  test(`fingerprint (${hash}): repeats, probes, RS-scale noise and other images`, () => {
    const secret = randomBytes(32);
    const salt = saltFrom(secret, 784);
    const key = hashKeyFrom(secret);
    const s: FingerprintSettings = { step: 50, ...defaultWindow(784), keep: 50, hash, skipFlat: true };
    const fp = (x: Float32Array) => fingerprint(x, [0, 1], salt, s, key);
    const x = images(1, 2).values;
    const base = fp(x);
    assert.equal(base.length, 50);
    assert.equal(new Set(base).size, 50, 'distinct hashes');
    assert.deepEqual(fp(x.slice()), base, 'deterministic');
    const rng = Rng.seeded(5);
    const noisy = (std: number) => x.map((v) => v + std * rng.normal());
    // An HSJA-sized probe shares most hashes. How many depends on the secret salt (a value near a
    // quantization boundary may cross it): over 300 random secrets the share was ≥ 45 of 50 in 99%
    // and never below 40, so one random secret would fail now and then. Twenty fixed secrets instead:
    // each probe keeps at least 35 hashes, and the median at least 45.
    const probe = noisy(1e-4);
    const probeShares = Array.from({ length: 20 }, (_, i) => {
      const fixed = createHash('sha256').update(`fingerprint-test-${i}`).digest();
      const at = (v: Float32Array) => fingerprint(v, [0, 1], saltFrom(fixed, 784), s, hashKeyFrom(fixed));
      return shared(at(probe), at(x));
    }).sort((a, b) => a - b);
    assert.ok(probeShares[0] >= 35, `every probe shares most hashes (${probeShares})`);
    assert.ok(probeShares[10] >= 45, `the median probe shares at least 45 of 50 (${probeShares})`);
    assert.ok(shared(fp(noisy(0.05)), base) < 5, 'noise at an RS scale shares almost none');
    assert.ok(shared(fp(images(1, 3).values), base) < 10, 'another image shares few');
    // Another secret: other salt, other hashes.
    const other = randomBytes(32);
    assert.ok(shared(fingerprint(x, [0, 1], saltFrom(other, 784), s, hashKeyFrom(other)), base) < 5);
  });
}

test('a blank image still has a full fingerprint (flat windows fill it), so it cannot escape detection', () => {
  const secret = randomBytes(32);
  const s: FingerprintSettings = { step: 50, window: 20, stride: 1, keep: 50, hash: 'keyed', skipFlat: true };
  const blank = fingerprint(new Float32Array(784), [0, 1], saltFrom(secret, 784), s, hashKeyFrom(secret));
  assert.equal(blank.length, 50);
});

test('quantize: salted levels modulo 255 in steps of 50, as the release computes them', () => {
  const salt = Float32Array.of(0, 100, 200, 254);
  const q = quantize(Float32Array.of(0, 0.5, 0.5, 1), [0, 1], salt, 50);
  // 0 → 0; 127.5+100 = 227.5 → 5 (227.5/50 = 4.55); 127.5+200 = 327.5 mod 255 = 72.5 → 1; 255+254 = 509 mod 255 = 254 → 5.
  assert.deepEqual(Array.from(q), [0, 5, 1, 5]);
});
