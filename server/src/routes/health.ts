// Liveness, readiness (models loaded), Prometheus metrics and the OpenAPI document.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';

const Health = z.object({ status: z.string() });
const Ready = z.object({ status: z.string(), deployments: z.number().int(), models: z.array(z.string()) });

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({ method: 'get', path: '/healthz', summary: 'Liveness', tag: 'ops', response: Health });
  ctx.openapi.add({ method: 'get', path: '/readyz', summary: 'Readiness: the configured deployments have loaded', tag: 'ops', response: Ready, errors: [503] });
  ctx.openapi.add({ method: 'get', path: '/metrics', summary: 'Prometheus metrics (text exposition format)', tag: 'ops', response: 'text' });
  ctx.openapi.add({ method: 'get', path: '/openapi.json', summary: 'This document', tag: 'ops', response: z.object({}).passthrough() });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const body = { status: ctx.ready ? 'ready' : 'loading', deployments: ctx.deployments.list().length, models: ctx.deployments.loadedModels() };
    return reply.code(ctx.ready ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(ctx.metrics.render()));

  app.get('/openapi.json', async () => ctx.openapi.document(process.env.npm_package_version ?? '0.1.0'));
};
