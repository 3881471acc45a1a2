import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float32ToBytes, bytesToFloat32, float32ToBase64, base64ToFloat32, encodeTensorJson, decodeTensorJson, TensorJson } from '@rs-arena/shared/tensor';

const values = Float32Array.from([0, 1, -1.5, 0.1, 3.4028234663852886e38, 1e-45, -0]);

test('binary round trip is bit-exact and little-endian', () => {
  const bytes = float32ToBytes(values);
  assert.equal(bytes.byteLength, values.length * 4);
  assert.deepEqual(Array.from(bytes.subarray(4, 8)), [0x00, 0x00, 0x80, 0x3f]); // 1.0f LE
  assert.deepEqual(bytesToFloat32(bytes), values);
  assert.ok(Object.is(bytesToFloat32(bytes)[6], -0));
});

test('unaligned byte views are copied, not misread', () => {
  const raw = new Uint8Array(values.byteLength + 1);
  raw.set(float32ToBytes(values), 1);
  assert.deepEqual(bytesToFloat32(raw.subarray(1)), values);
});

test('a byte length that is not a multiple of 4 is refused with its length', () => {
  assert.throws(() => bytesToFloat32(new Uint8Array(7)), /multiple of 4 bytes, got 7/);
});

test('base64 round trip, and invalid base64 is refused', () => {
  assert.deepEqual(base64ToFloat32(float32ToBase64(values)), values);
  assert.equal(float32ToBase64(Float32Array.of(1)), 'AACAPw==');
  assert.throws(() => base64ToFloat32('not base64!'), /not valid base64/);
});

test('JSON tensors check shape against data', () => {
  const t = encodeTensorJson(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
  assert.ok(TensorJson.safeParse(t).success);
  assert.deepEqual(decodeTensorJson(t).values, Float32Array.of(1, 2, 3, 4, 5, 6));
  assert.throws(() => decodeTensorJson({ ...t, shape: [2, 2] }), /shape \[2,2\] holds 4 values but data has 6/);
  assert.throws(() => encodeTensorJson(Float32Array.of(1), [2]), /holds 2 values, got 1/);
  assert.equal(TensorJson.safeParse({ ...t, dtype: 'float64' }).success, false);
});
