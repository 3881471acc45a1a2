import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dct2, idct2, zigzagLowFrequencies } from '../../../client/src/dct.js';
import { Rng } from '@rs-arena/shared/rng';

test('dct2 matches SciPy on a 3×4 plane', () => {
  // x[i][j] = ((7i + 3j) mod 5) / 4; expected from SciPy 1.10.1:
  //   scipy.fft.dctn(x, type=2, norm='ortho')
  const x = Float32Array.from({ length: 12 }, (_, k) => ((7 * Math.floor(k / 4) + 3 * (k % 4)) % 5) / 4);
  const expected = [
    1.659882023920174, -0.14952865560817, 0.360843918243516, -0.172407988461517, -0.088388347648318, -0.577424707819554, -0.441941738241592, -0.239177145228181,
    0.255155181539914, -0.057198332133367, 0.255155181539914, -0.804841610174218,
  ];
  const y = dct2(x, [1, 3, 4]);
  for (let k = 0; k < 12; k++) assert.ok(Math.abs(y[k] - expected[k]) < 1e-6, `coefficient ${k}: ${y[k]} vs ${expected[k]}`);
});

test('idct2 inverts dct2 per channel, and the transform preserves the L2 norm', () => {
  const shape = [3, 28, 20] as const;
  const x = Rng.seeded(5).fillNormal(new Float32Array(3 * 28 * 20), 0, 1);
  const y = dct2(x, shape);
  const back = idct2(y, shape);
  let err = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(back[i] - x[i]));
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  assert.ok(err < 1e-5, `round-trip error ${err}`);
  assert.ok(Math.abs(nx - ny) / nx < 1e-6, 'orthonormal');
  // A constant plane has only a DC coefficient.
  const c = dct2(new Float32Array(16).fill(0.5), [1, 4, 4]);
  assert.ok(Math.abs(c[0] - 2) < 1e-6);
  for (let i = 1; i < 16; i++) assert.ok(Math.abs(c[i]) < 1e-6);
});

test('zigzagLowFrequencies scans anti-diagonals from the DC term', () => {
  assert.deepEqual(Array.from(zigzagLowFrequencies(4, 4, 6 / 16)), [0, 1, 4, 8, 5, 2]);
  assert.equal(zigzagLowFrequencies(28, 28, 0.5).length, 392);
  assert.equal(zigzagLowFrequencies(2, 2, 0).length, 1);
});
