// What every experiment gets: the server (endpoint, keys, admin and evaluator clients), the results
// folder, the concurrency bound, and each experiment's results file (a rerun resumes from it).
import { join } from 'node:path';
import { findModel, loadCatalog } from '@rs-arena/shared/catalog';
import type { z } from 'zod';
import type { ServerAdmin } from '../admin.js';
import { type InputImage, loadInputs } from '../inputs.js';
import { ResultsFile } from '../results-file.js';
import { type ExperimentSpec, recordSpec } from './records/experiment.js';
import type { TaskRunner } from './tasks.js';

export interface ExperimentContext {
  endpoint: string;
  keys: { admin: string; evaluator: string; client: string };
  admin: ServerAdmin;
  evaluator: ServerAdmin;
  dir: string;
  concurrency: number;
  /** Folder of ImageNet images (wnid-named, with labels.tsv) for ImageNet models. */
  imagenetImages: string;
  /** Resume from records made by other attack code than the current (default: rerun and replace them). */
  keepStale?: boolean;
  log(line: string): void;
  /** Request headers of a queue worker's own (`rs-arena worker --header`), for the targets of audits it attacks (audit/queued.ts). */
  headers?: string[];
  /** Deployments this run created on the server: removed when it ends (runPreset), so a shared server keeps none of them. */
  created?: Set<string>;
  /** Where attack tasks run (tasks.ts): a queue with `--queue`; here by default. */
  tasks?: TaskRunner;
}

export interface ModelInputs {
  shape: [number, number, number];
  images: InputImage[];
}

const inputCache = new Map<string, Promise<ModelInputs>>();

/** The test images a model is evaluated on: the shipped sample, or the ImageNet folder. */
export function inputsFor(ctx: ExperimentContext, model: string, count: number): Promise<ModelInputs> {
  const key = `${model}|${count}|${ctx.imagenetImages}`;
  let p = inputCache.get(key);
  if (!p) {
    const entry = findModel(loadCatalog(), model);
    if (!entry) throw new Error(`no model "${model}" in the manifest`);
    const shape = entry.input.shape as [number, number, number];
    const source = entry.dataset === 'imagenet' ? ctx.imagenetImages : 'sample';
    p = loadInputs({ source, count }, { shape, range: entry.input.range, dataset: entry.dataset }).then((images) => ({ shape, images }));
    inputCache.set(key, p);
  }
  return p;
}

/** The deployment of a (model, σ, n) setting, created through the admin API if needed; seeded noise. */
export async function deploymentFor(ctx: ExperimentContext, model: string, sigma: number, n: number): Promise<string> {
  const id = deploymentId(model, sigma, n);
  // maxBatch: the server lowers it to what fits its body limit (ImageNet inputs are 600 kB);
  // batchSize: noisy copies per model run on the server, small for ImageNet (memory, and its best throughput).
  const entry = findModel(loadCatalog(), model);
  const large = entry ? entry.input.shape.reduce((a, b) => a * b, 1) > 10_000 : false;
  if (await ctx.admin.ensureDeployment({ id, model, sigma, n: sigma === 0 ? 1 : n, seed: 7919, maxBatch: 4096, batchSize: large ? 16 : 500 }))
    ctx.created?.add(id);
  return id;
}

/** The id of a (model, σ, n) setting's deployment (a queue worker uses the one its submitter created). */
export const deploymentId = (model: string, sigma: number, n: number) => `x-${model}-s${sigma}-n${sigma === 0 ? 1 : n}`.replace(/[^A-Za-z0-9._-]/g, '_');

/** An experiment's results file in the results folder, open for resuming. */
export function resultsFile<C extends z.ZodType, R extends z.ZodType>(ctx: ExperimentContext, spec: ExperimentSpec<C, R>, config: z.output<C>): ResultsFile<R> {
  return new ResultsFile(join(ctx.dir, spec.file), recordSpec(spec, config));
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = items.slice();
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}
