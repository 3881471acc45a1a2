// The WebAssembly noise kernel (shared/native/noise.c via shared/src/noise.ts): the same contract
// as Rng.fillNormal, checked for distribution, tails, independence across its SIMD lanes, and the
// in-place scratch path the server uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoiseSource } from '@rs-arena/shared/noise';
import { normalCdf } from '@rs-arena/shared/stats';
import { KS_CRIT_001, ksScaled, moments, correlation } from '../helpers/distribution-checks.js';

for (const seed of [1, 2, 3]) {
  test(`normals pass a Kolmogorov-Smirnov test at α = 0.001 (seed ${seed})`, () => {
    const x = NoiseSource.seeded(seed).fillNormal(new Float32Array(300_001));
    assert.ok(ksScaled(x, normalCdf) < KS_CRIT_001, `√n·D = ${ksScaled(x, normalCdf)}`);
  });
}

test('the KS check has power: 2% too wide is rejected', () => {
  const x = NoiseSource.seeded(1).fillNormal(new Float32Array(300_000), 0, 1.02);
  assert.ok(ksScaled(x, normalCdf) > KS_CRIT_001);
});

test('moments and tail frequencies match N(0,1) within 5 standard errors', () => {
  const n = 4_000_000;
  const x = NoiseSource.seeded(7).fillNormal(new Float32Array(n));
  const m = moments(x);
  assert.ok(Math.abs(m.mean) < 5 * Math.sqrt(1 / n), `mean ${m.mean}`);
  assert.ok(Math.abs(m.variance - 1) < 5 * Math.sqrt(2 / n), `variance ${m.variance}`);
  assert.ok(Math.abs(m.skewness) < 5 * Math.sqrt(6 / n), `skewness ${m.skewness}`);
  assert.ok(Math.abs(m.kurtosis - 3) < 5 * Math.sqrt(24 / n), `kurtosis ${m.kurtosis}`);
  for (const t of [0.5, 1, 2, 3, 4, 4.5]) {
    const p = 2 * normalCdf(-t);
    let count = 0;
    for (const v of x) if (Math.abs(v) > t) count++;
    const se = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(count - n * p) < 5 * se + 1, `P(|z|>${t}): ${count} vs ${n * p}`);
  }
  // The documented truncation: 24-bit uniforms bound |z| by √(2·ln 2²⁵) = 5.887.
  assert.ok(
    x.every((v) => Math.abs(v) <= 5.8871),
    'no value beyond the truncation bound',
  );
});

test('the eight SIMD lanes and both Box-Muller outputs are uncorrelated', () => {
  const x = NoiseSource.seeded(11).fillNormal(new Float32Array(8 * 200_000));
  const lanes = Array.from({ length: 8 }, (_, l) => Float64Array.from({ length: 200_000 }, (_, i) => x[8 * i + l]));
  const bound = 5 / Math.sqrt(200_000);
  for (let a = 0; a < 8; a++) {
    for (let b = a + 1; b < 8; b++) assert.ok(Math.abs(correlation(lanes[a], lanes[b])) < bound, `lanes ${a},${b}`);
    // lag-1 within a lane
    assert.ok(Math.abs(correlation(lanes[a].subarray(1), lanes[a])) < bound, `lag-1 lane ${a}`);
  }
  // lanes 0 and 4 are the r·cos θ and r·sin θ of the same uniform pair: Box-Muller makes them independent
  assert.ok(Math.abs(correlation(lanes[0], lanes[4])) < bound);
});

test('a mean vector gives noisy copies x + σN, also for lengths that are not multiples of 8', () => {
  const d = 785; // not a multiple of 8
  const x = Float32Array.from({ length: d }, (_, i) => (i % 255) / 255);
  const out = NoiseSource.seeded(3).fillNormal(new Float32Array(d * 300), x, 0.25);
  const z = Float64Array.from(out, (v, i) => (v - x[i % d]) / 0.25);
  assert.ok(ksScaled(z, normalCdf) < KS_CRIT_001);
  assert.throws(() => NoiseSource.seeded(1).fillNormal(new Float32Array(10), new Float32Array(3), 1), /must divide/);
});

test('in-place fills of a scratch view equal copied fills, and the view is not reallocated', () => {
  const x = Float32Array.from({ length: 784 }, (_, i) => i / 784);
  const a = NoiseSource.seeded(5);
  const view = a.scratch(784 * 10);
  a.fillNormal(view.subarray(784 * 2, 784 * 5), x, 0.5);
  const copied = NoiseSource.seeded(5).fillNormal(new Float32Array(784 * 3), x, 0.5);
  assert.deepEqual(view.subarray(784 * 2, 784 * 5), copied);
  assert.equal(view.length, 7840, 'the scratch view is still attached');
});

test('seeds reproduce and differ; crypto seeding is unpredictable', () => {
  const a = NoiseSource.seeded(42).fillNormal(new Float32Array(1000));
  assert.deepEqual(NoiseSource.seeded(42).fillNormal(new Float32Array(1000)), a);
  assert.notDeepEqual(NoiseSource.seeded(43).fillNormal(new Float32Array(1000)), a);
  assert.notDeepEqual(NoiseSource.fromCrypto().fillNormal(new Float32Array(8)), NoiseSource.fromCrypto().fillNormal(new Float32Array(8)));
});
