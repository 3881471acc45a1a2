// GET /v1/deployments[/:id] — what a client may know: input shape, range, class names, and the
// model and defense settings where the operator discloses them.
import type { FastifyPluginAsync } from 'fastify';
import { DeploymentInfo, DeploymentList } from '@rs-arena/shared/api';
import type { RouteOptions } from '../context.js';

export const deploymentRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({ method: 'get', path: '/v1/deployments', summary: 'List the deployments', tag: 'query', role: 'client', response: DeploymentList, errors: [401] });
  ctx.openapi.add({ method: 'get', path: '/v1/deployments/:id', summary: "One deployment's public metadata", tag: 'query', role: 'client', response: DeploymentInfo, errors: [401, 404] });

  app.get('/v1/deployments', { config: { role: 'client' } }, async (): Promise<DeploymentList> => ({
    deployments: ctx.deployments.list().map((d) => d.info()),
  }));

  app.get<{ Params: { id: string } }>('/v1/deployments/:id', { config: { role: 'client' } }, async (request): Promise<DeploymentInfo> =>
    ctx.deployments.get(request.params.id).info(),
  );
};
