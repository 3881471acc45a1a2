// Models served from a folder, Triton's model-repository way: `<models dir>/<id>/` with one .onnx
// file and an optional config.json (shared/src/model-folder.ts). The input's name and [C, H, W]
// shape, the output's name and the class count are read from the ONNX file itself, the sha256 is
// computed (and checked against config.json's when it records one), and the model joins the
// catalog beside the manifest's, with the deployments its config declares.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import type { DeploymentSpecInput } from '@rs-arena/shared/api';
import { type Catalog, sha256File } from '@rs-arena/shared/catalog';
import type { ModelEntry } from '@rs-arena/shared/manifest';
import { MODEL_CONFIG_FILE, ModelFolderConfig } from '@rs-arena/shared/model-folder';
import { parseOrThrow } from '@rs-arena/shared/zod-error';

export interface FolderModel {
  entry: ModelEntry;
  deployments: DeploymentSpecInput[];
  /** The sha256 the file has now (recorded in config.json by models:add, reported by GET /v1/admin/models). */
  sha256: string;
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;

/** The folders of `dir` that hold an .onnx file (other folders, such as data/ or train/, are not models). */
function modelFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  // The external models' folder (models/imagenet/, listed in the manifest) is not a model folder.
  const external = resolve(process.env.RS_ARENA_IMAGENET_DIR ?? join(dir, 'imagenet'));
  return readdirSync(dir)
    .filter((name) => resolve(dir, name) !== external)
    .filter((name) => statSync(join(dir, name)).isDirectory() && readdirSync(join(dir, name)).some((f) => f.endsWith('.onnx')))
    .sort();
}

/** What an ONNX file says about itself: its one input and [C, H, W], its first output and the class count. */
async function inspectOnnx(path: string): Promise<{ input: string; shape: [number, number, number]; output: string; classes: number }> {
  const session = await ort.InferenceSession.create(path);
  try {
    const inputs = session.inputMetadata;
    if (inputs.length !== 1) throw new Error(`${path}: the model has ${inputs.length} inputs [${session.inputNames}]; a classifier served here has one`);
    const meta = inputs[0] as { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] };
    const dims = meta.shape ?? [];
    const chw = dims.slice(1);
    if (dims.length !== 4 || chw.some((d) => typeof d !== 'number' || d < 1)) {
      throw new Error(`${path}: input "${meta.name}" has shape [${dims.join(', ')}]; expected [batch, C, H, W] with fixed C, H and W`);
    }
    if (meta.type !== undefined && meta.type !== 'float32') throw new Error(`${path}: input "${meta.name}" is ${meta.type}; a float32 input is expected`);
    const output = session.outputNames[0];
    const outShape = (session.outputMetadata[0] as { shape?: (number | string)[] }).shape ?? [];
    let classes = typeof outShape.at(-1) === 'number' ? (outShape.at(-1) as number) : 0;
    if (!classes) {
      // A dynamic class dimension: one forward pass on a blank input tells.
      const shape = chw as number[];
      const x = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), [1, ...shape]);
      classes = (await session.run({ [meta.name]: x }))[output].data.length;
    }
    return { input: meta.name, shape: chw as [number, number, number], output, classes };
  } finally {
    await session.release();
  }
}

/** One model folder as a catalog entry (with its deployments); throws an error naming the folder and what is wrong. */
export async function loadModelFolder(catalog: Catalog, id: string): Promise<FolderModel> {
  const folder = join(catalog.dir, id);
  if (!ID.test(id)) throw new Error(`model folder "${id}": a model id is lowercase letters, digits, dot, dash or underscore`);
  if (!existsSync(folder)) throw new Error(`no model folder ${folder}`);
  const onnx = readdirSync(folder).filter((f) => f.endsWith('.onnx'));
  if (onnx.length !== 1)
    throw new Error(`model folder ${folder}: ${onnx.length ? `${onnx.length} .onnx files (${onnx.join(', ')})` : 'no .onnx file'}; put exactly one`);
  const configPath = join(folder, MODEL_CONFIG_FILE);
  let raw: unknown = {};
  if (existsSync(configPath)) {
    try {
      raw = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read ${configPath}: ${(err as Error).message}`);
    }
  }
  const config = parseOrThrow(ModelFolderConfig, raw, `invalid model config ${configPath}`);
  const file = join(folder, onnx[0]);
  const sha256 = sha256File(file);
  const found = await inspectOnnx(file);
  if (config.labels && !existsSync(join(folder, config.labels))) throw new Error(`${configPath}: labels file ${join(folder, config.labels)} does not exist`);
  const entry: ModelEntry = {
    id,
    description: config.description ?? `${onnx[0]} from the model folder ${id}/`,
    source: 'committed',
    file: relative(catalog.dir, file),
    // Pinned when config.json records it (a changed file is then refused at load), else this file's.
    sha256: config.sha256 ?? sha256,
    dataset: config.dataset,
    input: { name: found.input, shape: found.shape, range: config.range, normalization: config.normalization ?? null },
    output: { name: found.output, classes: found.classes },
    ...(config.labels
      ? { classNamesFile: relative(catalog.dir, join(folder, config.labels)) }
      : { classNames: Array.from({ length: found.classes }, (_, i) => String(i)) }),
    provenance: `model folder ${folder}`,
  };
  return { entry, sha256, deployments: config.deployments.map((d) => ({ ...d, model: id })) };
}

/** Every model folder of the catalog's directory, added to the catalog; returns them with their deployments. */
export async function addModelFolders(catalog: Catalog): Promise<FolderModel[]> {
  const out: FolderModel[] = [];
  for (const id of modelFolders(catalog.dir)) out.push(addToCatalog(catalog, await loadModelFolder(catalog, id)));
  return out;
}

export function addToCatalog(catalog: Catalog, model: FolderModel): FolderModel {
  if (catalog.manifest.models.some((m) => m.id === model.entry.id)) {
    throw new Error(`model "${model.entry.id}" is both in ${join(catalog.dir, 'manifest.json')} and a model folder; rename one`);
  }
  catalog.manifest.models.push(model.entry);
  return model;
}
