// How a query travels to the endpoint, and so which points it can ask about: float32 (binary, every
// float is a point), JSON numbers (a decimal text that parses back to the same float32), PNG (8-bit
// lossless: the 256-level grid of each pixel) or JPEG at quality q (the grid of what a JPEG decoder
// gives back). For the integer encodings every query is snapped before it is sent, here and only
// here: `encode` writes the point the endpoint will see back into the caller's buffer (for JPEG the
// decoded image), so the attack reasons about the point actually asked and its returned adversarial
// is exactly the image the endpoint saw.
// sharp is loaded by the first image encoding (loadSharp), not with this module: float32 and JSON
// endpoints never need it.
import { loadSharp } from '@rs-arena/shared/image';

export type EncodingName = 'float32' | 'json' | 'png' | 'jpeg';
const ENCODING_NAMES: EncodingName[] = ['float32', 'json', 'png', 'jpeg'];

export interface Encoding {
  name: EncodingName;
  /** JPEG quality (1–100). */
  quality?: number;
}

export class EncodingError extends Error {
  override name = 'EncodingError';
}

/** `float32`, `json`, `png`, `jpeg` or `jpeg:Q`. */
export function parseEncoding(text: string): Encoding {
  const [name, q] = text.split(':');
  if (!ENCODING_NAMES.includes(name as EncodingName))
    throw new EncodingError(`--encoding must be one of ${ENCODING_NAMES.join(', ')} (jpeg:Q for a quality), got "${text}"`);
  if (q === undefined) return name === 'jpeg' ? { name, quality: 90 } : { name: name as EncodingName };
  const quality = Number(q);
  if (name !== 'jpeg' || !Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new EncodingError(`--encoding: only jpeg takes a quality, an integer 1–100 (jpeg:90), got "${text}"`);
  return { name, quality };
}

export const encodingLabel = (e: Encoding): string => (e.name === 'jpeg' ? `jpeg:${e.quality ?? 90}` : e.name);

/** Whether the encoding restricts queries to a grid (and so snaps them). */
export const isImageEncoding = (e: Encoding): boolean => e.name === 'png' || e.name === 'jpeg';

export interface EncodedBatch {
  /** The values as sent (float32 and json), snapped in place for the image encodings. */
  values: Float32Array;
  /** One image file per input (png, jpeg). */
  images: Buffer[];
}

/**
 * Encodes `count` CHW inputs laid back to back in `values` (range [lo, hi] mapped to 0–255). For
 * png and jpeg, `values` is overwritten with the decoded pixels of what is sent.
 */
export async function encode(
  e: Encoding,
  values: Float32Array,
  count: number,
  shape: readonly [number, number, number],
  range: readonly [number, number],
): Promise<EncodedBatch> {
  if (!isImageEncoding(e)) return { values, images: [] };
  const [c, h, w] = shape;
  if (c !== 1 && c !== 3) throw new EncodingError(`${e.name} carries 1- or 3-channel images, not ${c} channels`);
  const size = c * h * w;
  const sharp = await loadSharp();
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const x = values.subarray(i * size, (i + 1) * size);
    const hwc = toBytes(x, shape, range);
    const img = sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } });
    if (e.name === 'png') {
      images.push(await img.png({ compressionLevel: 6 }).toBuffer());
      fromBytes(hwc, x, shape, range);
    } else {
      const file = await img.jpeg({ quality: e.quality ?? 90, chromaSubsampling: '4:4:4' }).toBuffer();
      images.push(file);
      fromBytes(await decodeRaw(file, c), x, shape, range);
    }
  }
  return { values, images };
}

/** The point the endpoint sees for `x` (a copy): x itself for float32/json, the decoded image otherwise. */
export async function onGrid(e: Encoding, x: Float32Array, shape: readonly [number, number, number], range: readonly [number, number]): Promise<Float32Array> {
  const copy = x.slice();
  await encode(e, copy, 1, shape, range);
  return copy;
}

async function decodeRaw(file: Buffer, channels: number): Promise<Buffer> {
  let img = (await loadSharp())(file);
  img = channels === 1 ? img.greyscale() : img.toColourspace('srgb');
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new EncodingError(`decoded ${info.channels} channels, expected ${channels}`);
  return data;
}

/** CHW values in [lo, hi] → HWC bytes, rounded to the nearest of 256 levels (clipped). */
function toBytes(x: Float32Array, [c, h, w]: readonly [number, number, number], [lo, hi]: readonly [number, number]): Buffer {
  const plane = h * w;
  const out = Buffer.alloc(c * plane);
  const scale = 255 / (hi - lo);
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = (x[ch * plane + p] - lo) * scale;
      out[p * c + ch] = Number.isFinite(v) ? Math.min(255, Math.max(0, Math.round(v))) : 0;
    }
  }
  return out;
}

function fromBytes(bytes: Uint8Array, x: Float32Array, [c, h, w]: readonly [number, number, number], [lo, hi]: readonly [number, number]): void {
  const plane = h * w;
  // b / 255 first: on [0, 1] exactly the value a decoder's `byte / 255` gives (shared/src/image.ts).
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < c; ch++) x[ch * plane + p] = lo + (bytes[p * c + ch] / 255) * (hi - lo);
}
