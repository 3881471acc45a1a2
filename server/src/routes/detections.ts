// What a deployment's detector saw: the admin lists the keys it flagged (with their detections and
// whether they are suspended); an evaluator resets it between runs (fingerprints, counts and
// suspensions, of one key or all). A deployment without a detector answers 400.
import type { FastifyPluginAsync } from 'fastify';
import { DetectionList, DetectionReset, ResetCount } from '@rs-arena/shared/api';
import { badRequest } from '../errors.js';
import { route } from '../route.js';
import type { AppContext, RouteOptions } from '../context.js';
import type { Detections } from '../defense.js';

function detectionsOf(ctx: AppContext, id: string): Detections {
  const deployment = ctx.deployments.get(id);
  const d = deployment.defense.detections;
  if (!d) throw badRequest(`deployment "${id}" (defense "${deployment.defense.name}") has no detector`, 'no_detector');
  return d;
}

export const detectionRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  route(app, ctx, {
    method: 'get',
    url: '/v1/admin/deployments/:id/detections',
    operationId: 'listDetections',
    summary: "Keys the deployment's detector flagged: detections per key and whether the key is suspended",
    tag: 'admin',
    role: 'admin',
    response: DetectionList,
    errors: [400, 401, 403, 404, 503],
    async handler(request): Promise<DetectionList> {
      const keys = await detectionsOf(ctx, request.params.id).flagged();
      return { deployment: request.params.id, keys };
    },
  });
  route(app, ctx, {
    method: 'delete',
    url: '/v1/deployments/:id/detections',
    operationId: 'resetDetections',
    summary: "Forget what the deployment's detector saw (fingerprints, detections, suspensions), of one key (?key=) or all (evaluator role)",
    tag: 'evaluation',
    role: 'evaluator',
    query: DetectionReset,
    response: ResetCount,
    errors: [400, 401, 403, 404, 503],
    async handler(request) {
      const { key } = request.query;
      const detections = detectionsOf(ctx, request.params.id);
      const before = (await detections.flagged()).filter((f) => key === undefined || f.key === key).length;
      await detections.reset(key);
      request.log.info({ deployment: request.params.id, key }, 'detector reset');
      return { reset: before };
    },
  });
};
