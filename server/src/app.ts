// buildApp(config): one Fastify instance with its own registry, keys, ledger and metrics (no
// global state), every capability registered as a plugin. Resolves once the configured
// deployments have loaded; a model that fails to load rejects with a clear error.
import Fastify, { type FastifyInstance } from 'fastify';
import { loadCatalog } from '@rs-arena/shared/catalog';
import type { ServerConfig } from './config.js';
import { DeploymentRegistry } from './deployments.js';
import { KeyStore, generateSecret } from './auth.js';
import { Ledger } from './budget.js';
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
import { v2Routes } from './routes/v2.js';

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
  const ctx: AppContext = {
    config,
    deployments: new DeploymentRegistry(catalog, { threads: config.threads }, config.bodyLimitBytes),
    keys: new KeyStore(),
    ledger: new Ledger(),
    metrics: new Metrics(),
    openapi: new OpenApi(),
    ready: false,
  };
  addKeys(ctx, config, options);

  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => Math.random().toString(36).slice(2, 12),
    requestIdHeader: false,
  });
  app.decorate('ctx', ctx);
  registerBodyParsers(app);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx: malformed JSON, body too large, unsupported content type…
      const message = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? `${err.message}; use application/octet-stream, application/json, image/png or image/jpeg` : err.message;
      return reply.code(status).send({ error: (err.code ?? 'bad_request').toLowerCase(), message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal server error (logged with the request id)' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  for (const plugin of [healthRoutes, deploymentRoutes, predictRoutes, votesRoutes, certifyRoutes, usageRoutes, adminRoutes, v2Routes]) {
    await app.register(plugin, { ctx });
  }
  app.addHook('onClose', async () => ctx.deployments.close());

  try {
    for (const spec of config.deployments) await ctx.deployments.add(spec);
  } catch (err) {
    await app.close();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot start: loading the configured deployments failed: ${message}`);
  }
  ctx.ready = true;
  return app;
}

function addKeys(ctx: AppContext, config: ServerConfig, options: BuildOptions): void {
  for (const k of config.keys) ctx.keys.add(k);
  for (const k of config.envKeys ?? []) ctx.keys.add(k);
  if (ctx.keys.size > 0) return;
  // Secure by default: no configured key means fresh random keys, shown once to the operator.
  const generated = [
    { id: 'admin', role: 'admin' as const, secret: generateSecret() },
    { id: 'client', role: 'client' as const, secret: generateSecret() },
  ];
  for (const k of generated) ctx.keys.add(k);
  options.onGeneratedKeys?.(generated);
}
