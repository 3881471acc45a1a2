// Image files ↔ model inputs: decode and preprocess a PNG/JPEG into float32 CHW in [0,1] exactly
// as the models expect it, and render an input back to PNG for previews and figures.
// sharp (libvips: 0.1-0.2 CPU-s to load) is loaded by the first image decoded or written, not with
// this module: a process that never handles an image (a float32 endpoint, a resumed run that saves
// nothing) never loads it. The one loader: the client's encodings use it too.
let sharpModule: Promise<typeof import('sharp')> | undefined;
export const loadSharp = async () => (await (sharpModule ??= import('sharp'))).default;

export interface ImageGeometry {
  /** [C, H, W] of the model input; C is 1 (greyscale) or 3 (RGB). */
  shape: readonly [number, number, number];
  /**
   * 'crop': ImageNet evaluation style: resize the shorter side to H·256/224 and centre-crop H×W.
   * 'fill': resize straight to H×W (small datasets such as Fashion-MNIST).
   */
  resize: 'crop' | 'fill';
}

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** The file is a different image format than the one declared (e.g. a GIF sent as image/png). */
export class ImageTypeError extends ImageDecodeError {
  override name = 'ImageTypeError';
}

/** Bounds checked on the header, before any pixel is decoded. */
export interface DecodeLimits {
  /** The only format accepted (sharp's name: 'png', 'jpeg'); absent: any format sharp reads. */
  format?: string;
  /** Largest declared width or height (see decodeBounds). */
  maxSide?: number;
  /** Largest ratio between the long and the short side (a 1×4000 strip resized for a crop would be huge). */
  maxAspect?: number;
}

/**
 * Decode bounds sized to a model input: 4× its side, but at least 2048 so ordinary photos pass
 * (ImageNet's run to 1280 here). At that cap a decode holds ~4 Mpx (12 MB RGB): a header that
 * declares 16000×16000 (256 Mpx, ~730 MB to decode) is refused on sight.
 */
export function decodeBounds([, h, w]: readonly [number, number, number]): { maxSide: number; maxAspect: number } {
  return { maxSide: Math.max(4 * Math.max(h, w), 2048), maxAspect: 16 };
}

/**
 * Decodes an image file (PNG, JPEG, …) into float32 CHW values in [0,1]. The header is read
 * first: an empty file, a format other than `limits.format`, or declared dimensions beyond the
 * bounds are refused before decoding (a 1 KB JPEG can declare 16000×16000 pixels). Without limits
 * (the client's own files) any size is decoded.
 */
export async function imageToTensor(file: Uint8Array, geometry: ImageGeometry, limits: DecodeLimits = {}): Promise<Float32Array> {
  const [c, h, w] = geometry.shape;
  if (c !== 1 && c !== 3) throw new RangeError(`images can feed 1- or 3-channel inputs, not ${c}`);
  if (file.length === 0) throw new ImageDecodeError('empty image: the body holds no bytes');
  const { maxSide = Infinity, maxAspect = Infinity } = limits;
  // limitInputPixels: libvips' own guard, in case a header lies about the size it will decode.
  const pixels = Number.isFinite(maxSide) ? { limitInputPixels: maxSide * maxSide } : {};
  const sharp = await loadSharp();
  let meta;
  try {
    // The header only: nothing is decoded yet.
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`cannot decode image: ${(err as Error).message}`);
  }
  if (limits.format && meta.format !== limits.format) {
    throw new ImageTypeError(`the body is ${meta.format ? `a ${meta.format} image` : 'not an image'}, not the declared ${limits.format}`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError('cannot decode image: no dimensions');
  if (meta.width > maxSide || meta.height > maxSide) {
    throw new ImageDecodeError(`image declares ${meta.width}×${meta.height} pixels; at most ${maxSide} per side for a ${h}×${w} input`);
  }
  if (Math.max(meta.width, meta.height) > maxAspect * Math.min(meta.width, meta.height)) {
    throw new ImageDecodeError(`image declares ${meta.width}×${meta.height} pixels: sides more than ${maxAspect}:1 apart`);
  }
  if ((meta.pages ?? 1) > 1) throw new ImageDecodeError(`image has ${meta.pages} pages or frames; send one`);
  let img = sharp(file, { failOn: 'error', ...pixels }).rotate(); // apply EXIF orientation
  const [iw, ih] = (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
  img = c === 1 ? img.greyscale() : img.toColourspace('srgb');
  img = img.removeAlpha();
  if (geometry.resize === 'crop') {
    const short = Math.round((Math.min(h, w) * 256) / 224);
    const scale = short / Math.min(iw, ih);
    const rw = iw <= ih ? short : Math.round(iw * scale);
    const rh = iw <= ih ? Math.round(ih * scale) : short;
    img = img.resize(rw, rh, { kernel: 'linear', fit: 'fill' }).extract({ left: Math.round((rw - w) / 2), top: Math.round((rh - h) / 2), width: w, height: h });
  } else {
    img = img.resize(w, h, { kernel: 'linear', fit: 'fill' });
  }
  let raw;
  try {
    raw = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageDecodeError(`cannot decode image: ${(err as Error).message}`);
  }
  const { data, info } = raw;
  if (info.channels !== c) throw new ImageDecodeError(`decoded ${info.channels} channels, expected ${c}`);
  // HWC uint8 → CHW float32 / 255
  const out = new Float32Array(c * h * w);
  const plane = h * w;
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < c; ch++) out[ch * plane + p] = data[p * c + ch] / 255;
  return out;
}

/** Renders a CHW float32 input (values clipped to [0,1]) as a PNG, optionally enlarged. */
export async function tensorToPng(values: Float32Array, shape: readonly [number, number, number], scale = 1): Promise<Buffer> {
  const [c, h, w] = shape;
  const plane = h * w;
  const hwc = Buffer.alloc(c * plane);
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < c; ch++) {
      const v = values[ch * plane + p];
      hwc[p * c + ch] = Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
    }
  }
  const sharp = await loadSharp();
  let img = sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } });
  if (scale !== 1) img = img.resize(w * scale, h * scale, { kernel: 'nearest' });
  return img.png().toBuffer();
}
