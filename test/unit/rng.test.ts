import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@rs-arena/shared/rng';
import { normalCdf } from '@rs-arena/shared/stats/normal';

import { KS_CRIT_001, ksScaled, moments } from '../helpers/distribution-checks.js';

const ksStatistic = (x: Float32Array, cdf: (v: number) => number) => ksScaled(x, cdf) / Math.sqrt(x.length);

test('the same seed gives the same stream; different seeds differ', () => {
  const a = Rng.seeded(42).fillNormal(new Float32Array(1000));
  const b = Rng.seeded(42).fillNormal(new Float32Array(1000));
  const c = Rng.seeded(43).fillNormal(new Float32Array(1000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // seeds beyond 32 bits are distinguished too
  assert.notEqual(Rng.seeded(2 ** 32 + 5).nextUint32(), Rng.seeded(5).nextUint32());
});

test('crypto-seeded streams are not reproducible', () => {
  assert.notDeepEqual(Rng.fromCrypto().fillUniform(new Float32Array(8)), Rng.fromCrypto().fillUniform(new Float32Array(8)));
});

test('seed validation names the bad seed', () => {
  assert.throws(() => Rng.seeded(-1), /seed must be a non-negative safe integer, got -1/);
  assert.throws(() => Rng.seeded(1.5), RangeError);
});

for (const seed of [1, 2, 3]) {
  test(`standard normals pass a Kolmogorov-Smirnov test at α = 0.001 (seed ${seed})`, () => {
    const x = Rng.seeded(seed).fillNormal(new Float32Array(200_000));
    const d = ksStatistic(x, normalCdf);
    assert.ok(Math.sqrt(x.length) * d < KS_CRIT_001, `√n·D = ${Math.sqrt(x.length) * d}`);
  });
}

test('the KS check has power: 2% too wide normals are rejected', () => {
  const x = Rng.seeded(1).fillNormal(new Float32Array(200_000), 0, 1.02);
  assert.ok(Math.sqrt(x.length) * ksStatistic(x, normalCdf) > KS_CRIT_001);
});

test('normal moments and tails match N(0,1) within 5 standard errors', () => {
  const n = 2_000_000;
  const x = Rng.seeded(7).fillNormal(new Float32Array(n));
  const m = moments(x);
  assert.ok(Math.abs(m.mean) < 5 * Math.sqrt(1 / n), `mean ${m.mean}`);
  assert.ok(Math.abs(m.variance - 1) < 5 * Math.sqrt(2 / n), `variance ${m.variance}`);
  assert.ok(Math.abs(m.skewness) < 5 * Math.sqrt(6 / n), `skewness ${m.skewness}`);
  assert.ok(Math.abs(m.kurtosis - 3) < 5 * Math.sqrt(24 / n), `kurtosis ${m.kurtosis}`);
  // Tail frequencies, including beyond the ziggurat's base edge R = 3.4426 (the slow tail path).
  for (const t of [1, 2, 3, 3.4426, 4]) {
    const p = 2 * normalCdf(-t);
    let count = 0;
    for (const v of x) if (Math.abs(v) > t) count++;
    const se = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(count - n * p) < 5 * se, `P(|z|>${t}): ${count} vs ${n * p}`);
  }
});

test('scalar normal() draws follow N(0,1) too', () => {
  const rng = Rng.seeded(11);
  const x = Float32Array.from({ length: 100_000 }, () => rng.normal());
  assert.ok(Math.sqrt(x.length) * ksStatistic(x, normalCdf) < KS_CRIT_001);
});

test('uniforms lie in [lo, hi) and pass a KS test', () => {
  const x = Rng.seeded(5).fillUniform(new Float32Array(200_000));
  assert.ok(x.every((v) => v >= 0 && v < 1));
  assert.ok(Math.sqrt(x.length) * ksStatistic(x, (v) => Math.min(1, Math.max(0, v))) < KS_CRIT_001);
  const y = Rng.seeded(5).fillUniform(new Float32Array(10_000), -2, 3);
  assert.ok(y.every((v) => v >= -2 && v < 3));
  const rng = Rng.seeded(9);
  const d = Float64Array.from({ length: 100_000 }, () => rng.uniform());
  assert.ok(d.every((v) => v >= 0 && v < 1));
  assert.ok(Math.abs(moments(Float32Array.from(d)).mean - 0.5) < 5 * Math.sqrt(1 / 12 / d.length));
});

test('fillNormal with a mean vector writes noisy copies x + σN of x', () => {
  const x = Float32Array.from({ length: 784 }, (_, i) => (i % 255) / 255);
  const copies = 200;
  const out = Rng.seeded(3).fillNormal(new Float32Array(784 * copies), x, 0.25);
  const z = new Float32Array(out.length);
  for (let i = 0; i < out.length; i++) z[i] = (out[i] - x[i % 784]) / 0.25;
  assert.ok(Math.sqrt(z.length) * ksStatistic(z, normalCdf) < KS_CRIT_001);
  assert.throws(() => Rng.seeded(1).fillNormal(new Float32Array(10), new Float32Array(3), 1), /must divide/);
});
