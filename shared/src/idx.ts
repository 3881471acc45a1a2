// Reader for the IDX format of (Fashion-)MNIST, gzipped or not: the shipped test sample and the
// Debian dataset package use it.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

interface IdxArray {
  /** Dimensions, outermost first (e.g. [1000, 28, 28]). */
  dims: number[];
  data: Uint8Array;
}

function parseIdx(raw: Uint8Array): IdxArray {
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error('not an IDX file (bad magic)');
  if (bytes[2] !== 0x08) throw new Error(`only unsigned-byte IDX data is supported (type 0x${bytes[2].toString(16)})`);
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - offset !== size) throw new Error(`IDX body holds ${bytes.length - offset} bytes, dims say ${size}`);
  return { dims, data: bytes.subarray(offset) };
}

function readIdx(path: string): IdxArray {
  return parseIdx(readFileSync(path));
}

/** Images as float32 in [0,1] (value/255), NCHW with one channel, plus their labels. */
export function loadIdxImages(
  imagesPath: string,
  labelsPath: string,
): {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
} {
  const img = readIdx(imagesPath);
  const lab = readIdx(labelsPath);
  const [count, h, w] = img.dims;
  if (img.dims.length !== 3) throw new Error(`expected [N,H,W] images, got dims [${img.dims}]`);
  if (lab.dims.length !== 1 || lab.dims[0] !== count) throw new Error(`labels [${lab.dims}] do not match ${count} images`);
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  return { images, labels: lab.data, count, shape: [1, h, w] };
}
