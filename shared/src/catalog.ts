// Finds the models of models/manifest.json on disk: committed ones beside the manifest, external
// ones (the ImageNet classifiers a user exports or downloads) in the external model directory.
// A model that is absent or whose sha256 differs is reported with a clear problem, not thrown.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manifest, type ModelEntry, type SampleSet } from './manifest.js';
import { loadIdxImages } from './idx.js';
import { formatZodError } from './zod-error.js';

/** The repository's models/ folder. */
export const DEFAULT_MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models');

export interface Catalog {
  dir: string;
  manifest: Manifest;
}

export interface ResolvedModel {
  entry: ModelEntry;
  path: string;
  /** ok: present with the pinned sha256. */
  status: 'ok' | 'missing' | 'checksum-mismatch';
  problem?: string;
  classNames: string[];
  inputSize: number;
}

export function loadCatalog(dir = process.env.RS_ARENA_MODELS_DIR ?? DEFAULT_MODELS_DIR): Catalog {
  const file = join(dir, 'manifest.json');
  // A folder of model folders needs no manifest (the server adds them: server/src/model-folder.ts).
  if (!existsSync(file)) return { dir, manifest: { version: 1, models: [], samples: [] } };
  const parsed = Manifest.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`invalid manifest ${file}: ${formatZodError(parsed.error, { schema: Manifest })}`);
  return { dir, manifest: parsed.data };
}

/** Where external models are looked up: $RS_ARENA_IMAGENET_DIR, else models/imagenet. */
function externalDir(catalog: Catalog): string {
  return resolve(process.env.RS_ARENA_IMAGENET_DIR ?? join(catalog.dir, 'imagenet'));
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function findModel(catalog: Catalog, id: string): ModelEntry | undefined {
  return catalog.manifest.models.find((m) => m.id === id);
}

export function resolveModel(catalog: Catalog, entry: ModelEntry): ResolvedModel {
  const base = entry.source === 'committed' ? catalog.dir : externalDir(catalog);
  const path = resolve(base, entry.file);
  const inputSize = entry.input.shape.reduce((a, b) => a * b, 1);
  const names = (): string[] => entry.classNames ?? readClassNames(resolve(base, entry.classNamesFile!), entry.output.classes);
  if (!existsSync(path)) {
    const how = entry.source === 'external' ? ` (external model: run models/scripts/fetch-imagenet-models.sh or export it, or set RS_ARENA_IMAGENET_DIR)` : '';
    return { entry, path, status: 'missing', problem: `model ${entry.id}: file ${path} is missing${how}`, classNames: [], inputSize };
  }
  // A misspelt labels file must not silently serve class names "0", "1", …
  if (entry.classNames === undefined && !existsSync(resolve(base, entry.classNamesFile!))) {
    return {
      entry,
      path,
      status: 'missing',
      problem: `model ${entry.id}: classNamesFile ${resolve(base, entry.classNamesFile!)} does not exist`,
      classNames: [],
      inputSize,
    };
  }
  const actual = sha256File(path);
  if (actual !== entry.sha256) {
    return {
      entry,
      path,
      status: 'checksum-mismatch',
      problem: `model ${entry.id}: ${path} has sha256 ${actual}, manifest pins ${entry.sha256}`,
      classNames: [],
      inputSize,
    };
  }
  return { entry, path, status: 'ok', classNames: names(), inputSize };
}

/** A TSV of `index<TAB>id<TAB>name` lines, in class order. */
function readClassNames(path: string, classes: number): string[] {
  const names = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t').at(-1)!.trim());
  if (names.length !== classes) throw new Error(`${path} lists ${names.length} classes, model has ${classes}`);
  return names;
}

function findSample(catalog: Catalog, id?: string): SampleSet {
  const sample = id ? catalog.manifest.samples.find((s) => s.id === id) : catalog.manifest.samples[0];
  if (!sample) throw new Error(`no sample set ${id ?? ''} in the manifest`);
  return sample;
}

/** The shipped test images as float32 [0,1] NCHW, with labels. */
export function loadSample(catalog: Catalog, id?: string) {
  const s = findSample(catalog, id);
  return loadIdxImages(join(catalog.dir, s.images), join(catalog.dir, s.labels));
}
