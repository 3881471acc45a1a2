// buildApp(config): one Fastify instance with its own registry, keys, ledger and metrics (no
// global state), every capability registered as a plugin. Resolves once the configured
// deployments have loaded; a model that fails to load rejects with a clear error.
import Fastify, { type FastifyInstance } from 'fastify';
import { findModel, loadCatalog } from '@rs-arena/shared/catalog';
import { DeploymentSpec, type DeploymentSpecInput } from '@rs-arena/shared/api';
import { parseOrThrow } from '@rs-arena/shared/zod-error';
import { addModelFolders } from './model-folder.js';
import type { ServerConfig } from './config.js';
import { DeploymentRegistry } from './deployments.js';
import { newCoreShare } from './core-share.js';
import { loadTuning, tuningForMachine } from './tuning.js';
import { KeyStore } from './auth.js';
import { Metrics } from './metrics.js';
import { OpenApi } from './openapi.js';
import { registerBodyParsers } from './body.js';
import { HttpError } from './errors.js';
import type { AppContext } from './context.js';
import { healthRoutes } from './routes/health.js';
import { deploymentRoutes } from './routes/deployments.js';
import { predictRoutes } from './routes/predict.js';
import { votesRoutes } from './routes/votes.js';
import { certifyRoutes } from './routes/certify.js';
import { usageRoutes } from './routes/usage.js';
import { adminRoutes } from './routes/admin.js';
import { modelRoutes } from './routes/models.js';
import { followChanges, loadDeployments, loadKeys, openStore } from './state/sync.js';
import { installIdempotency } from './state/idempotency.js';
import { authenticate } from './routes/preamble.js';
import { requestLogger } from './request-logger.js';
import { v2Routes } from './routes/v2.js';
import { detectionRoutes } from './routes/detections.js';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

export interface BuildOptions {
  /** Called with keys the server generated because none were configured (print them once). */
  onGeneratedKeys?: (keys: { id: string; role: string; secret: string }[]) => void;
  /** Pino logger options, or false (tests). */
  logger?: boolean | object;
}

export async function buildApp(config: ServerConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const catalog = loadCatalog(config.modelsDir);
  // Model folders (<models dir>/<id>/ with an .onnx file): read from their ONNX files, with their deployments.
  const folderModels = await addModelFolders(catalog);
  const state = await openStore(config);
  const metrics = new Metrics();
  const tuning = loadTuning(config.tuningFile);
  const ctx: AppContext = {
    config,
    catalog,
    deployments: new DeploymentRegistry(
      catalog,
      // One share of the cores for every model this server runs (core-share.ts).
      { threads: config.threads, ...(config.shareCores ? { cores: newCoreShare() } : {}) },
      { bodyLimitBytes: config.bodyLimitBytes, clientForwardPasses: config.maxForwardPasses.client },
      tuning,
      { state, metrics },
    ),
    keys: new KeyStore(),
    ledger: state.ledger,
    state,
    metrics,
    openapi: new OpenApi(),
    ready: false,
  };
  // The schedulers' runs and copies per model, read by each scrape.
  metrics.watchModelRuns(() => ctx.deployments.modelRuns());
  let ownKeys;
  try {
    ownKeys = await loadKeys(ctx, config, options.onGeneratedKeys);
  } catch (err) {
    await state.close();
    throw err;
  }

  const logger = options.logger ?? { level: config.logLevel };
  const app = Fastify({
    logger: typeof logger === 'object' ? { ...logger, serializers: { req: requestForLog } } : logger,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    maxRequestsPerSocket: config.maxRequestsPerSocket,
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default): check often
    // enough that a stalled upload is cut near its deadline; headers get the same deadline.
    http: { connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs), headersTimeout: config.requestTimeoutMs },
    genReqId: () => Math.random().toString(36).slice(2, 12),
    // A request's logger is made only when it logs a line (request-logger.ts).
    childLoggerFactory: requestLogger,
    requestIdHeader: false,
  });
  app.server.maxConnections = config.maxConnections;
  app.decorate('ctx', ctx);
  app.decorateRequest('apiKey', null);
  registerBodyParsers(app);
  // Before any route plugin, so every route declaring a role inherits it; runs before the body is read.
  app.addHook('onRequest', authenticate(ctx));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx: malformed JSON, body too large, unsupported content type…
      const message =
        err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? `${err.message}; use application/octet-stream, application/json, image/png or image/jpeg` : err.message;
      return reply.code(status).send({ error: (err.code ?? 'bad_request').toLowerCase(), message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal server error (logged with the request id)' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${pathOf(request.url)}` }));
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.request(request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  installIdempotency(app, ctx);
  for (const plugin of [
    healthRoutes,
    deploymentRoutes,
    predictRoutes,
    votesRoutes,
    certifyRoutes,
    usageRoutes,
    adminRoutes,
    modelRoutes,
    detectionRoutes,
    v2Routes,
  ]) {
    await app.register(plugin, { ctx });
  }
  app.addHook('onClose', async () => {
    await ctx.deployments.close();
    await state.close();
  });

  // Which measured settings run the models: this CPU's own, or the default measured on another.
  const machine = tuningForMachine(tuning);
  app.log.info(
    { cpu: machine.cpu, measuredHere: machine.measuredHere, source: machine.source },
    machine.measuredHere
      ? 'tuning measured on this CPU'
      : 'tuning: the default, measured on another CPU (npm run bench:server -- --write-tuning measures this one)',
  );
  try {
    for (const spec of config.deployments) {
      if (config.embeddedDefault && !findModel(catalog, spec.model)) {
        app.log.warn(`default config: deployment ${spec.id} skipped, model ${spec.model} is not in ${catalog.dir}`);
        continue;
      }
      await ctx.deployments.add(spec);
    }
    for (const m of folderModels) {
      app.log.info({ model: m.entry.id, sha256: m.sha256, input: m.entry.input, output: m.entry.output }, 'model folder loaded');
      for (const spec of m.deployments) await ctx.deployments.add(parseDeploymentSpec(spec));
    }
    await loadDeployments(ctx, app.log);
    await followChanges(ctx, config, ownKeys, app.log);
  } catch (err) {
    await app.close();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot start: loading the configured deployments failed: ${message}`);
  }
  ctx.ready = true;
  return app;
}

/** The path of a URL without its query string (which may hold a key someone put there). */
const pathOf = (url: string) => url.split('?')[0];

/** What the log says about a request: never its query string. */
function requestForLog(req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string; remotePort?: number } }) {
  return { method: req.method, url: pathOf(req.url), remoteAddress: req.ip ?? req.socket?.remoteAddress, remotePort: req.socket?.remotePort };
}

const parseDeploymentSpec = (spec: DeploymentSpecInput) => parseOrThrow(DeploymentSpec, spec, `deployment ${spec.id}`);
