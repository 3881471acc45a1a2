// Prometheus metrics through prom-client (the standard Node client: exposition format, histograms
// and process metrics done right). Owned by one app instance: its own registries, no global state.
//
// Disclosure: per-deployment series (queries, forward passes, latency) reveal n (passes ÷ queries,
// latency ∝ n), so they go to two registries: `all` (shown with the metrics key or an admin key)
// and `disclosed` (only deployments whose settings are public, shown to anyone). The `open`
// registry holds what reveals nothing about a deployment: HTTP requests by route pattern and
// status, and the process's own metrics.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MeteredDeployment {
  id: string;
  disclosed: boolean;
}

/** What a served model's scheduler has run so far (deployments.ts): model runs and the copies they held. */
export interface ModelRuns {
  model: string;
  runs: number;
  copies: number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The per-deployment families, created once in each of the two registries; `collect` runs before each scrape. */
function deploymentFamilies(registers: Registry[], collect: () => void) {
  return {
    queries: new Counter({
      name: 'rs_arena_queries_total',
      help: 'Inputs answered (one query each), per deployment and route',
      labelNames: ['deployment', 'route'] as const,
      registers,
      collect,
    }),
    forwardPasses: new Counter({
      name: 'rs_arena_forward_passes_total',
      help: 'Base-model forward passes (n per smoothed query)',
      labelNames: ['deployment'] as const,
      registers,
      collect,
    }),
    budgetRejections: new Counter({
      name: 'rs_arena_budget_rejections_total',
      help: 'Requests refused because they would exceed a query budget',
      labelNames: ['deployment', 'route'] as const,
      registers,
    }),
    detections: new Counter({
      name: 'rs_arena_detections_total',
      help: 'Queries a detector flagged, per deployment and what was done (refused, suspended, random-label)',
      labelNames: ['deployment', 'action'] as const,
      registers,
    }),
    latency: new Histogram({
      name: 'rs_arena_request_duration_seconds',
      help: 'Model time of answered requests, per deployment and route',
      labelNames: ['deployment', 'route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}

export class Metrics {
  private readonly open = new Registry();
  private readonly all = new Registry();
  private readonly disclosed = new Registry();
  // Counters in bulk: a request adds to plain numbers here; they reach prom-client's counters (one
  // inc per series) when a scrape collects. prom-client hashes a series' labels on every inc (a
  // sorted join), three to five times per answered query otherwise. The latency histogram is
  // observed per request (its buckets need each value).
  private readonly pendingRequests = new Map<string, { route: string; status: string; count: number }>();
  private readonly pendingAnswers = new Map<string, { deployment: MeteredDeployment; route: string; queries: number; passes: number }>();
  /** The counts added since the last scrape, into prom-client's counters (every scrape, before it reads them). */
  private readonly flush = (): void => {
    for (const p of this.pendingRequests.values()) this.requests.inc({ route: p.route, status: p.status }, p.count);
    this.pendingRequests.clear();
    for (const { deployment, route, queries, passes } of this.pendingAnswers.values()) {
      for (const f of this.families(deployment)) {
        f.queries.inc({ deployment: deployment.id, route }, queries);
        f.forwardPasses.inc({ deployment: deployment.id }, passes);
      }
    }
    this.pendingAnswers.clear();
  };
  private readonly allFamilies = deploymentFamilies([this.all], this.flush);
  private readonly disclosedFamilies = deploymentFamilies([this.disclosed], this.flush);
  private readonly requests = new Counter({
    name: 'rs_arena_http_requests_total',
    help: 'HTTP requests by route pattern and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.open],
    collect: this.flush,
  });
  // Per base model, what its scheduler formed: copies ÷ runs is the batch it ran at, the figure to
  // read beside the tuning's batch sizes (Triton's nv_inference_exec_count and nv_inference_count).
  // Read from the schedulers' own counts at each scrape: nothing per run. Only where every
  // deployment is shown: a model's runs mix its deployments, undisclosed ones too.
  private modelRuns: () => Iterable<ModelRuns> = () => [];
  private readonly collectModelRuns = (): void => {
    this.runs.reset();
    this.runCopies.reset();
    for (const m of this.modelRuns()) {
      this.runs.inc({ model: m.model }, m.runs);
      this.runCopies.inc({ model: m.model }, m.copies);
    }
  };
  private readonly runs: Counter<'model'> = new Counter({
    name: 'rs_arena_model_runs_total',
    help: "Base-model runs the model's scheduler made (one onnxruntime run or remote infer request each), per model, across its deployments",
    labelNames: ['model'] as const,
    registers: [this.all],
    collect: this.collectModelRuns,
  });
  private readonly runCopies: Counter<'model'> = new Counter({
    name: 'rs_arena_model_run_copies_total',
    help: "Inputs in those runs, per model: the noisy copies smoothing drew (a defense's direct model calls, none's answers or gated's gate, are not scheduled), ÷ rs_arena_model_runs_total the batch the scheduler formed",
    labelNames: ['model'] as const,
    registers: [this.all],
  });
  readonly contentType = this.open.contentType;

  constructor() {
    collectDefaultMetrics({ register: this.open, prefix: 'rs_arena_' });
  }

  /** Where the model-run counters read their totals at each scrape (the deployment registry's schedulers). */
  watchModelRuns(source: () => Iterable<ModelRuns>): void {
    this.modelRuns = source;
  }

  private families(deployment: MeteredDeployment) {
    return deployment.disclosed ? [this.allFamilies, this.disclosedFamilies] : [this.allFamilies];
  }

  request(route: string, status: number): void {
    const key = `${route}\u0000${status}`;
    const pending = this.pendingRequests.get(key);
    if (pending) pending.count++;
    else this.pendingRequests.set(key, { route, status: String(status), count: 1 });
  }

  /** A request answered: its queries, the forward passes it cost and its model time. */
  answered(deployment: MeteredDeployment, route: string, queries: number, forwardPasses: number, seconds: number): void {
    const key = `${deployment.id}\u0000${route}\u0000${deployment.disclosed}`;
    const pending = this.pendingAnswers.get(key);
    if (pending) {
      pending.queries += queries;
      pending.passes += forwardPasses;
    } else this.pendingAnswers.set(key, { deployment, route, queries, passes: forwardPasses });
    for (const f of this.families(deployment)) f.latency.observe({ deployment: deployment.id, route }, seconds);
  }

  /** Forward passes spent on a request that was not answered (cancelled or failed). */
  spent(deployment: MeteredDeployment, forwardPasses: number): void {
    if (forwardPasses > 0) for (const f of this.families(deployment)) f.forwardPasses.inc({ deployment: deployment.id }, forwardPasses);
  }

  /** Queries a defense detected, and what it did with them. */
  detected(deployment: MeteredDeployment, count: number, action: string): void {
    for (const f of this.families(deployment)) f.detections.inc({ deployment: deployment.id, action }, count);
  }

  budgetRejected(deployment: MeteredDeployment, route: string): void {
    for (const f of this.families(deployment)) f.budgetRejections.inc({ deployment: deployment.id, route });
  }

  /** The exposition text: per-deployment series of every deployment with `full`, else of disclosed ones. */
  async render(full: boolean): Promise<string> {
    const parts = await Promise.all([this.open.metrics(), (full ? this.all : this.disclosed).metrics()]);
    return parts.join('\n');
  }
}
