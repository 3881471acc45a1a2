// Liveness, readiness (models loaded), Prometheus metrics and the OpenAPI document. Open to
// anyone, so nothing here names the model of an undisclosed deployment, and per-deployment
// metrics of undisclosed deployments need the metrics key (or an admin key).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { authorize } from '../auth.js';
import type { AppContext, RouteOptions } from '../context.js';
import { route } from '../route.js';

const Health = z.object({ status: z.string() });
const Ready = z.object({ status: z.string(), deployments: z.number().int(), models: z.array(z.string()).describe('models of disclosed deployments') });

/** No Authorization: the public view. The metrics key or an admin key: everything. Else 401. */
function fullMetrics(ctx: AppContext, request: FastifyRequest): boolean {
  const header = request.headers.authorization;
  if (header === undefined) return false;
  const secret = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (secret && ctx.config.metricsKey) {
    const digest = createHash('sha256').update(secret, 'utf8').digest();
    if (timingSafeEqual(digest, Buffer.from(ctx.config.metricsKey, 'hex'))) return true;
  }
  authorize(ctx.keys, header, 'admin');
  return true;
}

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  route(app, ctx, {
    method: 'get',
    url: '/healthz',
    operationId: 'liveness',
    summary: 'Liveness',
    tag: 'ops',
    response: Health,
    handler: async () => ({ status: 'ok' }),
  });
  route(app, ctx, {
    method: 'get',
    url: '/readyz',
    operationId: 'readiness',
    summary: 'Readiness: the configured deployments have loaded',
    tag: 'ops',
    response: Ready,
    errors: [503],
    async handler(_request, reply) {
      const body = { status: ctx.ready ? 'ready' : 'loading', deployments: ctx.deployments.list().length, models: ctx.deployments.disclosedModels() };
      return reply.code(ctx.ready ? 200 : 503).send(body);
    },
  });
  route(app, ctx, {
    method: 'get',
    url: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics (text exposition format); per-deployment series of undisclosed deployments with the metrics key or an admin key',
    tag: 'ops',
    response: 'text',
    errors: [401, 403],
    async handler(request, reply) {
      const text = await ctx.metrics.render(fullMetrics(ctx, request));
      return reply.type(ctx.metrics.contentType).send(text);
    },
  });
  route(app, ctx, {
    method: 'get',
    url: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    tag: 'ops',
    response: z.object({}).passthrough(),
    handler: async () => ctx.openapi.document(process.env.npm_package_version ?? '0.1.0'),
  });
};
