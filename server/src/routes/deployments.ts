// GET /v1/deployments[/:id] — what a client may know: input shape, range, class names, and the
// model and defense settings where the operator discloses them.
import type { FastifyPluginAsync } from 'fastify';
import { DeploymentInfo, DeploymentList } from '@rs-arena/shared/api';
import type { RouteOptions } from '../context.js';
import { route } from '../route.js';

export const deploymentRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  route(app, ctx, {
    method: 'get',
    url: '/v1/deployments',
    operationId: 'listDeployments',
    summary: 'List the deployments',
    tag: 'query',
    role: 'client',
    response: DeploymentList,
    errors: [401],
    handler: async (): Promise<DeploymentList> => ({ deployments: ctx.deployments.list().map((d) => d.info()) }),
  });
  route(app, ctx, {
    method: 'get',
    url: '/v1/deployments/:id',
    operationId: 'getDeployment',
    summary: "One deployment's public metadata",
    tag: 'query',
    role: 'client',
    response: DeploymentInfo,
    errors: [401, 404],
    handler: async (request): Promise<DeploymentInfo> => ctx.deployments.get(request.params.id).info(),
  });
};
