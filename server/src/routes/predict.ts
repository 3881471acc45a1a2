// POST /v1/deployments/:id/predict — the black box: top-1 labels only, one query per input.
import type { FastifyPluginAsync } from 'fastify';
import { InputsBody, PredictResponse } from '@rs-arena/shared/api';
import { authorize } from '../auth.js';
import { decodeInputs } from '../body.js';
import type { RouteOptions } from '../context.js';
import { charged } from './charge.js';

export const predictRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({
    method: 'post',
    path: '/v1/deployments/:id/predict',
    summary: 'Top-1 labels of the defended classifier for a batch of inputs (each input is one query)',
    tag: 'query',
    role: 'client',
    body: { json: InputsBody, binary: true, image: true },
    response: PredictResponse,
    errors: [400, 401, 403, 404, 413, 415, 429],
  });

  app.post<{ Params: { id: string } }>('/v1/deployments/:id/predict', async (request): Promise<PredictResponse> => {
    const key = authorize(ctx.keys, request.headers.authorization, 'client');
    const deployment = ctx.deployments.get(request.params.id);
    request.log = request.log.child({ keyId: key.id, deployment: deployment.id });
    const { values, count } = await decodeInputs(request, deployment);
    const { result, usage } = await charged(ctx, request, key, deployment, 'predict', count, deployment.forwardPasses(count), () =>
      deployment.predict(values, count),
    );
    return { labels: Array.from(result), usage };
  });
};
