// Mild natural changes of an input, as a benign user's traffic has them: the same picture shifted
// by a pixel, a little brighter, re-encoded as JPEG. A stateful detector must not flag them (its
// benign false positives): `npm run bench:defenses` and the defense-menu experiment send the
// shipped test images once, then again under each of these.
import sharp from 'sharp';

type Shape = readonly [number, number, number];

/** Shifted by (dx, dy) pixels; edge pixels repeat (as a camera moved by a pixel would see about the same border). */
function shift(x: Float32Array, [c, h, w]: Shape, dx: number, dy: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++)
    for (let r = 0; r < h; r++)
      for (let col = 0; col < w; col++) {
        const sr = Math.min(h - 1, Math.max(0, r - dy));
        const sc = Math.min(w - 1, Math.max(0, col - dx));
        out[ch * h * w + r * w + col] = x[ch * h * w + sr * w + sc];
      }
  return out;
}

/** Brightness × gain, clipped to 1 (inputs in [0, 1]). */
const brighten = (x: Float32Array, gain: number): Float32Array => x.map((v) => Math.min(1, v * gain));

/** Re-encoded as JPEG at `quality` and decoded (inputs in [0, 1]). */
async function jpeg(x: Float32Array, [c, h, w]: Shape, quality: number): Promise<Float32Array> {
  const hwc = new Uint8Array(h * w * c);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) hwc[i * c + ch] = Math.round(x[ch * h * w + i] * 255);
  const encoded = await sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } })
    .jpeg({ quality })
    .toBuffer();
  const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[ch * h * w + i] = data[i * info.channels + Math.min(ch, info.channels - 1)] / 255;
  return out;
}

/** The benign stream's parts, in the order they are sent: the originals, then each change of them. */
export const BENIGN_PARTS: readonly { name: string; make: (x: Float32Array, shape: Shape) => Float32Array | Promise<Float32Array> }[] = [
  { name: 'original', make: (x) => x },
  { name: 'shift-x', make: (x, s) => shift(x, s, 1, 0) },
  { name: 'shift-y', make: (x, s) => shift(x, s, 0, 1) },
  { name: 'brightness', make: (x) => brighten(x, 1.1) },
  { name: 'jpeg-q90', make: (x, s) => jpeg(x, s, 90) },
];
