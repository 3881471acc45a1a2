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

test("SurFree's 'block-low' basis: the low half of each 8×8 block's frequencies, only where the image has content", async () => {
  const { _blockLowMask } = await import('../../../client/src/attacks/surfree.js');
  const shape = [1, 16, 20] as const; // tiles: 2 rows × 3 columns, the last column 4 wide
  const x = new Float32Array(16 * 20);
  // Content in the top-left tile and the partial top-right tile only; the rest stays black (DCT 0).
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) x[i * 20 + j] = Rng.seeded(i * 8 + j).nextUint32() / 2 ** 32;
  for (let i = 0; i < 8; i++) for (let j = 16; j < 20; j++) x[i * 20 + j] = 0.5 + 0.01 * i;
  const dct = blockDct2(x, shape);
  const mask = _blockLowMask(dct, shape, 0.5);
  const tile = (i0: number, j0: number, bh: number, bw: number) => {
    const cells: number[] = [];
    for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) cells.push(mask[(i0 + i) * 20 + j0 + j]);
    return cells;
  };
  // The full tile: 32 of 64 frequencies, all of them low (i + j ≤ 7), DC included.
  const tl = tile(0, 0, 8, 8);
  assert.equal(
    tl.reduce((a, b) => a + b, 0),
    32,
  );
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) if (tl[i * 8 + j]) assert.ok(i + j <= 7, `(${i}, ${j}) is not low`);
  assert.equal(tl[0], 1);
  // Black tiles get no direction at all.
  assert.deepEqual(tile(0, 8, 8, 8), new Array(64).fill(0));
  assert.deepEqual(tile(8, 0, 8, 8), new Array(64).fill(0));
  // The partial tile (8×4, varying only down its rows) keeps only low frequencies where its DCT is non-zero.
  const tr = tile(0, 16, 8, 4);
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 4; j++) {
      const nonzero = dct[i * 20 + 16 + j] !== 0;
      if (tr[i * 4 + j]) assert.ok(nonzero && i + j <= 7);
    }
  assert.ok(tr[0] === 1 && tr[4] === 1, 'DC and the first vertical frequency');
});
