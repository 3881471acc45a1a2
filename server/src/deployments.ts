// The deployment registry: each deployment is a model plus its RS settings and its own noise
// stream. One onnxruntime session per model serves every deployment of that model. Deployments
// can be added and removed while the server runs (the admin API), so a sweep needs no restart.
import { createHash } from 'node:crypto';
import type { Catalog } from '@rs-arena/shared/catalog';
import { findModel, resolveModel } from '@rs-arena/shared/catalog';
import { NoiseSource } from '@rs-arena/shared/noise';
import type { DeploymentInfo, DeploymentSpec } from '@rs-arena/shared/api';
import { HttpError, notFound } from './errors.js';
import { OnnxModel, type ModelOptions } from './model.js';
import { RemoteModel } from './remote-model.js';
import { SmoothedClassifier } from './smoothing.js';

/** What a deployment needs of its base model: a local onnxruntime session or a remote Open Inference Protocol model. */
export type ServedModel = Pick<OnnxModel, 'id' | 'inputShape' | 'inputSize' | 'classes' | 'model' | 'predict' | 'close'>;

export class Deployment {
  readonly smoothed: SmoothedClassifier;
  /** Seeded: reproducible answers for a fixed query order. Unseeded: from the OS CSPRNG. */
  readonly noise: NoiseSource;

  /** Most inputs one request may carry: the spec's maxBatch, or fewer if a full batch would not fit the body limit. */
  readonly maxBatch: number;

  constructor(
    readonly spec: DeploymentSpec,
    readonly model: ServedModel,
    bodyLimitBytes = Infinity,
  ) {
    this.smoothed = new SmoothedClassifier(model, spec.sigma, spec.batchSize);
    this.noise = spec.seed === undefined ? NoiseSource.fromCrypto() : NoiseSource.seeded(spec.seed);
    // Binary bodies are 4 bytes per value; keep a margin for multipart-free JSON framing.
    this.maxBatch = Math.max(1, Math.min(spec.maxBatch, Math.floor((0.95 * bodyLimitBytes) / (4 * model.inputSize))));
  }

  get id(): string {
    return this.spec.id;
  }

  /** Top-1 answers of g_{σ,n} under the deployment's rule. */
  predict(xs: Float32Array, count: number): Promise<Int32Array> {
    const { n, rule, alpha } = this.spec;
    return this.smoothed.predict(xs, count, n, rule === 'majority' ? { rule } : { rule, alpha }, this.noise);
  }

  forwardPasses(count: number, n = this.spec.n): number {
    return this.smoothed.forwardPasses(count, n);
  }

  info(): DeploymentInfo {
    const { entry, classNames } = this.model.model;
    const { spec } = this;
    return {
      id: spec.id,
      model: spec.model,
      ...(spec.description ? { description: spec.description } : {}),
      dataset: entry.dataset,
      inputShape: [...entry.input.shape],
      range: entry.input.range,
      classes: entry.output.classes,
      classNames,
      maxBatch: this.maxBatch,
      smoothing: spec.disclose
        ? { sigma: spec.sigma, n: spec.n, rule: spec.rule, ...(spec.rule === 'predict' ? { alpha: spec.alpha } : {}) }
        : null,
    };
  }
}

export class DeploymentRegistry {
  private readonly deployments = new Map<string, Deployment>();
  private readonly models = new Map<string, Promise<ServedModel>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly modelOptions: ModelOptions = {},
    private readonly bodyLimitBytes = Infinity,
  ) {}

  /** Loads (or reuses) the model and registers the deployment. */
  async add(spec: DeploymentSpec): Promise<Deployment> {
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    const model = await this.model(spec);
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    const deployment = new Deployment(spec, model, this.bodyLimitBytes);
    this.deployments.set(spec.id, deployment);
    return deployment;
  }

  remove(id: string): boolean {
    return this.deployments.delete(id);
  }

  get(id: string): Deployment {
    const d = this.deployments.get(id);
    if (!d) throw notFound(`no deployment "${id}" (GET /v1/deployments lists them)`);
    return d;
  }

  has(id: string): boolean {
    return this.deployments.has(id);
  }

  list(): Deployment[] {
    return [...this.deployments.values()];
  }

  loadedModels(): string[] {
    return [...this.models.keys()];
  }

  private model({ model: id, remote }: DeploymentSpec): Promise<ServedModel> {
    // A remote model is one per server, model and headers; deployments of the same one share its pool.
    // (Keyed by a digest: the headers may hold the remote's credentials, and loadedModels() is shown on /readyz.)
    const cacheKey = remote ? `${id}@remote-${createHash('sha256').update(JSON.stringify(remote)).digest('hex').slice(0, 12)}` : id;
    let pending = this.models.get(cacheKey);
    if (!pending) {
      const entry = findModel(this.catalog, id);
      if (!entry) {
        const known = this.catalog.manifest.models.map((m) => m.id).join(', ');
        return Promise.reject(new HttpError(400, 'unknown_model', `no model "${id}" in the manifest (known: ${known})`));
      }
      const resolved = resolveModel(this.catalog, entry);
      if (remote) {
        const names = resolved.status === 'ok' ? resolved.classNames : (entry.classNames ?? Array.from({ length: entry.output.classes }, (_, i) => String(i)));
        pending = RemoteModel.load(entry, names, remote).catch((err: Error) => Promise.reject(new HttpError(400, 'model_unavailable', err.message)));
      } else {
        if (resolved.status !== 'ok') return Promise.reject(new HttpError(400, 'model_unavailable', resolved.problem!));
        pending = OnnxModel.load(resolved, this.modelOptions);
      }
      this.models.set(cacheKey, pending);
      pending.catch(() => this.models.delete(cacheKey));
    }
    return pending;
  }

  async close(): Promise<void> {
    const models = await Promise.allSettled(this.models.values());
    this.deployments.clear();
    this.models.clear();
    for (const m of models) if (m.status === 'fulfilled') await m.value.close();
  }
}
