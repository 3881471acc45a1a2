// The deployment registry: each deployment is a model behind a defense chain (defense-chain.ts),
// with its own settings, noise stream and defense state. One onnxruntime session per model, and one
// scheduler in front of it (scheduler.ts), owned here, serves every deployment of that model. Deployments can be added and removed while the server runs (the admin API), so a
// sweep over σ and n needs no restart.
import { createHash } from 'node:crypto';
import type { Catalog } from '@rs-arena/shared/catalog';
import { findModel, resolveModel } from '@rs-arena/shared/catalog';
import type { DeploymentInfo, DeploymentSpec } from '@rs-arena/shared/api';
import { HttpError, badRequest, notFound } from './errors.js';
import { OnnxModel, type ModelOptions } from './model.js';
import { RemoteModel } from './remote-model.js';
import { ThreadedModel } from './model-thread.js';
import { ModelInstances } from './model-instances.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { tuningFor, type TuningFile } from './tuning.js';
import { DefenseSpecError, type Defense, type DefenseContext, type ScoredClassifier } from './defense.js';
import { createChain, resolveChain, type Stage } from './defense-chain.js';
import type { StateStore } from './state/store.js';
import { MemoryDefenseState } from './state/defense-state.js';
import type { Metrics, ModelRuns } from './metrics.js';

export interface DeploymentLimits {
  /** Largest request body: a batch must fit. */
  bodyLimitBytes: number;
  /** Most forward passes a client's request may cost: a full predict batch must fit. */
  clientForwardPasses: number;
}

/** What a deployment needs of its base model: a local onnxruntime session or a remote Open Inference Protocol model. */
export type ServedModel = Pick<OnnxModel, 'id' | 'inputShape' | 'inputSize' | 'classes' | 'model' | 'predict' | 'close'> &
  Pick<ScoredClassifier, 'probabilities'>;

/** What the registry gives each deployment's defense besides its model: the app's state store and metrics. */
export interface DefenseServices {
  state?: StateStore;
  metrics?: Metrics;
}

export class Deployment {
  /** Most inputs one request may carry: the spec's maxBatch, or fewer if a full batch would not fit the limits. */
  readonly maxBatch: number;

  /** Validates the spec's defense chain, creates it, and the deployment (a 400 naming the field otherwise). */
  static async create(
    spec: DeploymentSpec,
    model: ServedModel,
    ctx: Omit<DefenseContext, 'deployment' | 'model' | 'range'>,
    limits?: DeploymentLimits,
  ): Promise<Deployment> {
    const stages = Deployment.stagesOf(spec);
    let defense: Defense;
    try {
      defense = await createChain(stages, { ...ctx, deployment: spec.id, model, range: model.model.entry.input.range });
    } catch (err) {
      if (err instanceof DefenseSpecError) throw badRequest(`deployment "${spec.id}": ${err.message}`, 'invalid_deployment');
      throw err;
    }
    try {
      return new Deployment(spec, model, defense, stages, limits);
    } catch (err) {
      await defense.removed?.();
      throw err;
    }
  }

  /** The spec's defense chain, validated (a 400 naming the field), before anything is loaded or created. */
  static stagesOf(spec: DeploymentSpec): Stage[] {
    try {
      return resolveChain(spec);
    } catch (err) {
      if (err instanceof DefenseSpecError) throw badRequest(`deployment "${spec.id}": ${err.message}`, 'invalid_deployment');
      throw err;
    }
  }

  private constructor(
    readonly spec: DeploymentSpec,
    readonly model: ServedModel,
    readonly defense: Defense,
    private readonly stages: Stage[],
    limits: DeploymentLimits = { bodyLimitBytes: Infinity, clientForwardPasses: Infinity },
  ) {
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
      ...(spec.disclose ? { model: spec.model, defense: this.defense.name } : {}),
      ...(spec.description ? { description: spec.description } : {}),
      dataset: entry.dataset,
      inputShape: [...entry.input.shape],
      range: entry.input.range,
      classes: entry.output.classes,
      classNames,
      maxBatch: this.maxBatch,
      smoothing: spec.disclose ? this.defense.settings() : null,
      // Every stage's own settings (τ, a detector's threshold…) where the spec gave them itself.
      ...(spec.disclose && (this.stages.length > 1 || Array.isArray(spec.defense))
        ? { stages: this.stages.map((s) => ({ name: s.definition.name, settings: s.settings })) }
        : {}),
    };
  }
}

export class DeploymentRegistry {
  private readonly deployments = new Map<string, Deployment>();
  private readonly models = new Map<string, Promise<ServedModel>>();
  /** Each served model's one queue (scheduler.ts), shared by its deployments. */
  private readonly schedulers = new Map<ServedModel, Scheduler>();
  /** The same schedulers by the model's key in `models` (its id, or id@remote-digest): the metrics' label. */
  private readonly schedulersByKey = new Map<string, Scheduler>();

  constructor(
    private readonly catalog: Catalog,
    private readonly modelOptions: ModelOptions = {},
    private readonly limits?: DeploymentLimits,
    /** Per-model session and batch settings (tuning.ts). */
    private readonly tuning: TuningFile = { models: {} },
    /** Where defenses keep their state and count detections (default: memory, uncounted). */
    private readonly services: DefenseServices = {},
  ) {}

  /** Loads (or reuses) the model and registers the deployment. */
  async add(spec: DeploymentSpec): Promise<Deployment> {
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    Deployment.stagesOf(spec);
    const model = await this.model(spec);
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    const { state, metrics } = this.services;
    const deployment = await Deployment.create(
      spec,
      model,
      {
        scheduler: this.schedulers.get(model)!,
        state: state?.defenseState(spec.id) ?? new MemoryDefenseState(),
        detected: (count, action) => metrics?.detected({ id: spec.id, disclosed: spec.disclose }, count, action),
        modelById: async (id) => {
          const other = await this.model({ model: id }).catch((err: Error) => {
            throw new DefenseSpecError(err.message);
          });
          return { model: other, scheduler: this.schedulers.get(other)! };
        },
      },
      this.limits,
    );
    if (this.deployments.has(spec.id)) throw new HttpError(409, 'conflict', `deployment "${spec.id}" already exists`);
    this.deployments.set(spec.id, deployment);
    return deployment;
  }

  /** Takes the deployment out of service; its defense forgets its state (`removed`). */
  remove(id: string): boolean {
    const d = this.deployments.get(id);
    if (!d) return false;
    this.deployments.delete(id);
    d.defense.removed?.().catch(() => {
      // A state store that cannot be reached now: the state stays until the id is reused and reset.
    });
    return true;
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
    return [
      ...new Set(
        this.list()
          .filter((d) => d.disclosed)
          .map((d) => d.spec.model),
      ),
    ];
  }

  private model({ model: id, remote }: Pick<DeploymentSpec, 'model' | 'remote'>): Promise<ServedModel> {
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
          .then((m) => this.withScheduler(cacheKey, m, { batchSize: remote.maxBatch, depth: remote.concurrency }))
          .catch((err: Error) => Promise.reject(new HttpError(400, 'model_unavailable', err.message)));
      } else {
        if (resolved.status !== 'ok') return Promise.reject(new HttpError(400, 'model_unavailable', resolved.problem!));
        // The model's one scheduler: every deployment on it shares its batches (scheduler.ts).
        const tuned = tuningFor(id, resolved.inputSize, this.tuning, this.modelOptions);
        // Two runs in flight per session in a thread: the next batch is drawn while one runs.
        pending =
          tuned.instances > 1
            ? ModelInstances.load(resolved, tuned.model, tuned.instances).then((m) =>
                this.withScheduler(cacheKey, m, { ...tuned.scheduler, depth: 2 * tuned.instances }),
              )
            : tuned.thread
              ? ThreadedModel.load(resolved, tuned.model).then((m) => this.withScheduler(cacheKey, m, { ...tuned.scheduler, depth: 2 }))
              : OnnxModel.load(resolved, tuned.model).then((m) => this.withScheduler(cacheKey, m, tuned.scheduler));
      }
      this.models.set(cacheKey, pending);
      pending.catch(() => this.models.delete(cacheKey));
    }
    return pending;
  }

  private withScheduler(key: string, model: ServedModel, options: SchedulerOptions): ServedModel {
    const scheduler = new Scheduler(model, options);
    this.schedulers.set(model, scheduler);
    this.schedulersByKey.set(key, scheduler);
    return model;
  }

  /** Each loaded model's runs so far and the copies they held (its scheduler's counts), by the model's key (metrics.ts). */
  *modelRuns(): Iterable<ModelRuns> {
    for (const [model, scheduler] of this.schedulersByKey) yield { model, runs: scheduler.runs, copies: scheduler.copies };
  }

  /** The model's scheduler (for tests and benchmarks). */
  schedulerOf(model: ServedModel): Scheduler | undefined {
    return this.schedulers.get(model);
  }

  /** Closes the models; the defenses' state stays (it survives a restart where the store does). */
  async close(): Promise<void> {
    const models = await Promise.allSettled(this.models.values());
    this.deployments.clear();
    this.models.clear();
    this.schedulers.clear();
    this.schedulersByKey.clear();
    for (const m of models) if (m.status === 'fulfilled') await m.value.close();
  }
}
