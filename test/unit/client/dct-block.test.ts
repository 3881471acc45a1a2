// The block DCT SurFree's official basis uses, and GeoDA's low-frequency subspace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@rs-arena/shared/rng';
import { blockDct2, blockIdct2, dct2, lowFrequencyImage } from '../../../client/src/dct.js';
import { dot, norm2 } from '../../../client/src/vec.js';

test('blockDct2 transforms each 8×8 tile on its own (edge tiles at their own size) and inverts', () => {
  const shape = [2, 28, 20] as const; // 28 = 3·8 + 4, 20 = 2·8 + 4: partial tiles on both edges
  const x = Rng.seeded(3).fillNormal(new Float32Array(2 * 28 * 20));
  const y = blockDct2(x, shape);
  const back = blockIdct2(y, shape);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(back[i] - x[i]) < 1e-5);
  // The tile at rows 24–27, columns 16–19 of channel 1 equals the full DCT of that 4×4 patch.
  const patch = new Float32Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) patch[i * 4 + j] = x[560 + (24 + i) * 20 + 16 + j];
  const ref = dct2(patch, [1, 4, 4]);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(y[560 + (24 + i) * 20 + 16 + j] - ref[i * 4 + j]) < 1e-5);
  // A constant image has only the DC term of each tile.
  const c = blockDct2(new Float32Array(64 * 4).fill(1), [1, 16, 16]);
  assert.ok(Math.abs(c[0] - 8) < 1e-5 && Math.abs(c[8] - 8) < 1e-5 && Math.abs(c[1]) < 1e-6);
});

test('lowFrequencyImage is an isometry onto the k×k lowest frequencies', () => {
  const shape = [1, 28, 28] as const;
  const rng = Rng.seeded(4);
  const a = rng.fillNormal(new Float32Array(81));
  const b = rng.fillNormal(new Float32Array(81));
  const ia = lowFrequencyImage(a, shape, 9);
  const ib = lowFrequencyImage(b, shape, 9);
  assert.ok(Math.abs(norm2(ia) - norm2(a)) < 1e-4);
  assert.ok(Math.abs(dot(ia, ib) - dot(a, b)) < 1e-4);
  const back = dct2(ia, shape);
  for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) if (i >= 9 || j >= 9) assert.ok(Math.abs(back[i * 28 + j]) < 1e-5);
});
