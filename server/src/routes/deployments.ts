// GET /v1/deployments[/:id] — what a client may know: input shape, range, class names, and the
// smoothing settings where the operator discloses them.
import type { FastifyPluginAsync } from 'fastify';
import { DeploymentInfo, DeploymentList } from '@rs-arena/shared/api';
import { authorize } from '../auth.js';
import type { RouteOptions } from '../context.js';

export const deploymentRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({ method: 'get', path: '/v1/deployments', summary: 'List the deployments', tag: 'query', role: 'client', response: DeploymentList, errors: [401] });
  ctx.openapi.add({ method: 'get', path: '/v1/deployments/:id', summary: "One deployment's public metadata", tag: 'query', role: 'client', response: DeploymentInfo, errors: [401, 404] });

  app.get('/v1/deployments', async (request): Promise<DeploymentList> => {
    authorize(ctx.keys, request.headers.authorization, 'client');
    return { deployments: ctx.deployments.list().map((d) => d.info()) };
  });

  app.get<{ Params: { id: string } }>('/v1/deployments/:id', async (request): Promise<DeploymentInfo> => {
    authorize(ctx.keys, request.headers.authorization, 'client');
    return ctx.deployments.get(request.params.id).info();
  });
};

