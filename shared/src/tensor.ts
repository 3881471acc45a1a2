// The tensor wire format shared by server and client: a batch of float32 inputs travels either as
// raw little-endian bytes (application/octet-stream: batch = byteLength / (4 · inputSize)), or as
// base64 of those same bytes inside JSON. Float32 end to end, because 8-bit images would quantize
// away the small steps that an attack's binary search relies on.
import { z } from 'zod';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 values → little-endian bytes (no copy on little-endian hosts). */
export function float32ToBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Little-endian bytes → float32 values (copies when the bytes are unaligned or the host is big-endian). */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new TensorFormatError(`float32 data must be a multiple of 4 bytes, got ${bytes.byteLength}`);
  }
  if (LITTLE_ENDIAN) {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return new Float32Array(bytes.slice().buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function float32ToBase64(values: Float32Array): string {
  return Buffer.from(float32ToBytes(values)).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function base64ToFloat32(text: string): Float32Array {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new TensorFormatError('data is not valid base64');
  return bytesToFloat32(new Uint8Array(Buffer.from(text, 'base64')));
}

export class TensorFormatError extends Error {
  override name = 'TensorFormatError';
}

/** A float32 batch inside JSON. `shape` is [batch, ...inputShape]. */
export const TensorJson = z.object({
  dtype: z.literal('float32'),
  shape: z.array(z.number().int().nonnegative()).min(1),
  data: z.string().describe('base64 of the little-endian float32 values, row-major'),
});
export type TensorJson = z.infer<typeof TensorJson>;

export function encodeTensorJson(values: Float32Array, shape: number[]): TensorJson {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== values.length) throw new TensorFormatError(`shape [${shape}] holds ${size} values, got ${values.length}`);
  return { dtype: 'float32', shape, data: float32ToBase64(values) };
}

/** Decodes and checks that the data length agrees with the declared shape. */
export function decodeTensorJson(t: TensorJson): { values: Float32Array; shape: number[] } {
  const values = base64ToFloat32(t.data);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (size !== values.length) {
    throw new TensorFormatError(`shape [${t.shape}] holds ${size} values but data has ${values.length}`);
  }
  return { values, shape: t.shape };
}
