// The deployment registry: each deployment is a model behind a defense (defenses/index.ts), with
// its own settings and noise stream. One onnxruntime session per model, and one scheduler in front
// of it (scheduler.ts), serves every deployment of that model. Deployments can be added and removed while the server runs (the admin API), so a
// sweep over σ and n needs no restart.
import { createHash } from 'node:crypto';
import type { Catalog } from '@rs-arena/shared/catalog';
import { findModel, resolveModel } from '@rs-arena/shared/catalog';
import type { DeploymentInfo, DeploymentSpec } from '@rs-arena/shared/api';
import { HttpError, badRequest, notFound } from './errors.js';
import { OnnxModel, type ModelOptions } from './model.js';
import { RemoteModel } from './remote-model.js';
import { ThreadedModel } from './model-thread.js';
import { Scheduler } from './scheduler.js';
import { tuningFor, type TuningFile } from './tuning.js';
import { DefenseSpecError, type Defense } from './defense.js';
import { createDefense, defenseNameOf } from './defenses/index.js';

export interface DeploymentLimits {
  /** Largest request body: a batch must fit. */
  bodyLimitBytes: number;
  /** Most forward passes a client's request may cost: a full predict batch must fit. */
  clientForwardPasses: number;
}

/** What a deployment needs of its base model: a local onnxruntime session or a remote Open Inference Protocol model. */
export type ServedModel = Pick<OnnxModel, 'id' | 'inputShape' | 'inputSize' | 'classes' | 'model' | 'predict' | 'close'>;

export class Deployment {
  readonly defense: Defense;
  /** Most inputs one request may carry: the spec's maxBatch, or fewer if a full batch would not fit the limits. */
  readonly maxBatch: number;

  constructor(
    readonly spec: DeploymentSpec,
    readonly model: ServedModel,
    limits: DeploymentLimits = { bodyLimitBytes: Infinity, clientForwardPasses: Infinity },
  ) {
    try {
      this.defense = createDefense(spec, model);
    } catch (err) {
      if (err instanceof DefenseSpecError) throw badRequest(`deployment "${spec.id}": ${err.message}`, 'invalid_deployment');
      throw err;
    }
    // Binary bodies are 4 bytes per value; keep a margin for JSON framing.
    const byBody = Math.floor((0.95 * limits.bodyLimitBytes) / (4 * model.inputSize));
    const byPasses = Math.floor(limits.clientForwardPasses / this.defense.predict.cost(1, undefined));
    if (!spec.disclose && byPasses < spec.maxBatch) {
      // An advertised maxBatch lowered by n would tell clients n: refuse such a deployment instead.
      throw badRequest(
        `deployment "${spec.id}": maxBatch ${spec.maxBatch} × its forward passes per query exceeds the client cap of ` +
          `${limits.clientForwardPasses} per request; lower maxBatch to ${Math.max(1, byPasses)} or less (an undisclosed deployment cannot be capped silently)`,
        'invalid_deployment',
      );
    }
    this.maxBatch = Math.max(1, Math.min(spec.maxBatch, byBody, byPasses));
  }

  get id(): string {
    return this.spec.id;
  }

  /** Whether clients may know its defense settings and model. */
  get disclosed(): boolean {
    return this.spec.disclose;
  }

  info(): DeploymentInfo {
    const { entry, classNames } = this.model.model;
    const { spec } = this;
    return {
      id: spec.id,
      ...(spec.disclose ? { model: spec.model, defense: defenseNameOf(spec) } : {}),
      ...(spec.description ? { description: spec.description } : {}),
      dataset: entry.dataset,
      inputShape: [...entry.input.shape],
      range: entry.input.range,
      classes: entry.output.classes,
      classNames,
      maxBatch: this.maxBatch,
      smoothing: spec.disclose ? this.defense.settings() : null,
    };
  }
}

export class DeploymentRegistry {
  private readonly deployments = new Map<string, Deployment>();
  private readonly models = new Map<string, Promise<ServedModel>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly modelOptions: ModelOptions = {},
    private readonly limits?: DeploymentLimits,
    /** Per-model session and batch settings (tuning.ts). */
    private readonly tuning: TuningFile = { models: {} },
  ) {}

  /** Loads (or reuses) the model and registers the deployment. */
  async add(spec: DeploymentSpec): Promise<Deployment> {
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    const model = await this.model(spec);
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    const deployment = new Deployment(spec, model, this.limits);
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

  /** Models that serve at least one disclosed deployment (an undisclosed one's model stays private). */
  disclosedModels(): string[] {
    return [...new Set(this.list().filter((d) => d.disclosed).map((d) => d.spec.model))];
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
        // One infer request per scheduled batch, as many in flight as the remote's pool has connections.
        pending = RemoteModel.load(entry, names, remote)
          .then((m) => (Scheduler.of(m, { batchSize: remote.maxBatch, depth: remote.concurrency }), m))
          .catch((err: Error) => Promise.reject(new HttpError(400, 'model_unavailable', err.message)));
      } else {
        if (resolved.status !== 'ok') return Promise.reject(new HttpError(400, 'model_unavailable', resolved.problem!));
        // The model's one scheduler: every deployment on it shares its batches (scheduler.ts).
        const tuned = tuningFor(id, resolved.inputSize, this.tuning, this.modelOptions);
        pending = tuned.thread
          ? ThreadedModel.load(resolved, tuned.model).then((m) => (Scheduler.of(m, { ...tuned.scheduler, depth: 2 }), m))
          : OnnxModel.load(resolved, tuned.model).then((m) => (Scheduler.of(m, tuned.scheduler), m));
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
