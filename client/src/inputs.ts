// The images a campaign attacks: the shipped test sample, a folder of PNG/JPEG files (preprocessed
// as the deployment's model expects), a float32 .npy file (a saved adversarial), or a raw float32 file. Every input is checked against the
// deployment's shape and value range before a single query is spent.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { loadCatalog, loadSample } from '@rs-arena/shared/catalog';
import { imageToTensor } from '@rs-arena/shared/image';
import { bytesToFloat32 } from '@rs-arena/shared/tensor';
import { readNpy } from './npy.js';

export interface InputImage {
  /** Stable identity for resuming: "sample:12", "dir:cat.png", "raw:3". */
  id: string;
  values: Float32Array;
  /** Ground truth if known. */
  label: number | null;
}

export interface InputTarget {
  shape: readonly [number, number, number];
  range: readonly [number, number];
  /** 'imagenet' images are resized and centre-cropped; others are resized to fill. */
  dataset: string;
}

export interface InputSelection {
  /** "sample" (the shipped test images), a folder, or a .f32/.bin/.raw file. */
  source: string;
  count?: number;
  offset?: number;
  /** Labels for a raw file or folder: a JSON array, or one integer per line. */
  labels?: string;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp']);

export class InputError extends Error {
  override name = 'InputError';
}

export async function loadInputs(sel: InputSelection, target: InputTarget): Promise<InputImage[]> {
  const size = target.shape.reduce((a, b) => a * b, 1);
  const offset = sel.offset ?? 0;
  const take = <T>(all: T[]) => all.slice(offset, sel.count === undefined ? undefined : offset + sel.count);
  let images: InputImage[];
  if (sel.source === 'sample') {
    const sample = loadSample(loadCatalog());
    const sampleSize = sample.images.length / sample.labels.length;
    if (sampleSize !== size) {
      throw new InputError(`the shipped sample has ${sampleSize}-value images (1×28×28 Fashion-MNIST); the deployment expects ${target.shape.join('×')}`);
    }
    const ids = take(Array.from({ length: sample.labels.length }, (_, i) => i));
    images = ids.map((i) => ({ id: `sample:${i}`, values: sample.images.slice(i * size, (i + 1) * size), label: sample.labels[i] }));
  } else if (!existsSync(sel.source)) {
    throw new InputError(`--images: no such file or folder: ${sel.source}`);
  } else if (statSync(sel.source).isDirectory()) {
    const files = take(
      readdirSync(sel.source)
        .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
        .sort(),
    );
    if (files.length === 0) throw new InputError(`--images: no PNG/JPEG/WebP images in ${sel.source}`);
    const labels = sel.labels ? readLabels(sel.labels) : wnidLabels(sel.source, files);
    images = [];
    for (const f of files) {
      const values = await imageToTensor(readFileSync(join(sel.source, f)), { shape: target.shape, resize: target.dataset === 'imagenet' ? 'crop' : 'fill' });
      scaleToRange(values, target.range);
      images.push({ id: `dir:${f}`, values, label: labels ? labelFor(labels, f, images.length + offset) : null });
    }
  } else {
    let bytes: Uint8Array = readFileSync(sel.source);
    if (extname(sel.source).toLowerCase() === '.npy') {
      // A saved adversarial (or any float32 .npy): its header says the shape, checked against the target's.
      let npy;
      try {
        npy = readNpy(bytes);
      } catch (err) {
        throw new InputError(`${basename(sel.source)}: ${(err as Error).message}`);
      }
      if (npy.shape.slice(-3).join('×') !== target.shape.join('×'))
        throw new InputError(`${basename(sel.source)}: shape (${npy.shape.join(', ')}) is not [N,] ${target.shape.join('×')}`);
      bytes = new Uint8Array(npy.values.buffer, npy.values.byteOffset, npy.values.byteLength);
    }
    if (bytes.length % (4 * size) !== 0) {
      throw new InputError(
        `${basename(sel.source)}: ${bytes.length} bytes is not a whole number of float32 inputs of ${target.shape.join('×')} (${4 * size} bytes each)`,
      );
    }
    const all = bytesToFloat32(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    const labels = sel.labels ? readLabels(sel.labels) : null;
    const ids = take(Array.from({ length: all.length / size }, (_, i) => i));
    images = ids.map((i) => ({ id: `raw:${i}`, values: all.slice(i * size, (i + 1) * size), label: labels ? labelFor(labels, String(i), i) : null }));
  }
  for (const img of images) check(img, target.range);
  return images;
}

/** Image files decode to [0,1]; a deployment declaring another range gets them rescaled. */
function scaleToRange(values: Float32Array, [lo, hi]: readonly [number, number]): void {
  if (lo === 0 && hi === 1) return;
  for (let i = 0; i < values.length; i++) values[i] = lo + values[i] * (hi - lo);
}

function check(img: InputImage, [lo, hi]: readonly [number, number]): void {
  for (let i = 0; i < img.values.length; i++) {
    const v = img.values[i];
    if (!Number.isFinite(v) || v < lo || v > hi) throw new InputError(`${img.id}: value ${v} at index ${i} is outside the deployment's range [${lo}, ${hi}]`);
  }
}

type Labels = number[] | Record<string, number>;

/** A JSON array (by position), a JSON object (by file name), or one integer per line. */
function readLabels(path: string): Labels {
  const text = readFileSync(path, 'utf8').trim();
  const parsed: unknown = text.startsWith('[') || text.startsWith('{') ? JSON.parse(text) : text.split(/\r?\n/).map(Number);
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (Array.isArray(parsed) ? parsed.every(ok) : typeof parsed === 'object' && parsed !== null && Object.values(parsed).every(ok)) return parsed as Labels;
  throw new InputError(`--labels ${path}: expected non-negative integer labels (a JSON array or object, or one per line)`);
}

function labelFor(labels: Labels, name: string, index: number): number {
  const l = Array.isArray(labels) ? labels[index] : labels[name];
  if (l === undefined) throw new InputError(`--labels has no label for ${name}`);
  return l;
}

/**
 * ImageNet-style folders name files "<wnid>_….JPEG" and keep a labels.tsv ("index<TAB>wnid<TAB>name")
 * beside the images or one level up: the true labels then come from the names.
 */
function wnidLabels(dir: string, files: string[]): Record<string, number> | null {
  const tsv = [join(dir, 'labels.tsv'), join(dir, '..', 'labels.tsv')].find(existsSync);
  if (!tsv) return null;
  const index = new Map<string, number>();
  for (const line of readFileSync(tsv, 'utf8').split(/\r?\n/)) {
    const [i, wnid] = line.split('\t');
    if (wnid) index.set(wnid, Number(i));
  }
  const out: Record<string, number> = {};
  for (const f of files) {
    const l = index.get(f.split('_')[0]);
    if (l === undefined) return null;
    out[f] = l;
  }
  return out;
}
