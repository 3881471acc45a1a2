// POST /v1/deployments/:id/predict — the black box: top-1 labels only, one query per input.
import type { FastifyPluginAsync } from 'fastify';
import { InputsBody, PredictQuery, PredictResponse } from '@rs-arena/shared/api';
import type { RouteOptions } from '../context.js';
import { route } from '../route.js';
import { answerQuery, type QueryRoute } from './preamble.js';

const predict: QueryRoute<void, Int32Array> = {
  name: 'predict',
  operation: (defense) => defense.predict,
  params: () => undefined,
};

export const predictRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  route(app, ctx, {
    method: 'post',
    url: '/v1/deployments/:id/predict',
    operationId: 'predict',
    summary: 'Top-1 labels of the defended classifier for a batch of inputs (each input is one query)',
    tag: 'query',
    role: 'client',
    body: { json: InputsBody, binary: true, image: true },
    // The query string is checked before anything is charged.
    query: PredictQuery,
    response: PredictResponse,
    errors: [400, 401, 403, 404, 408, 413, 415, 429, 503],
    errorNotes: {
      403:
        "the key lacks the role, or the deployment's detector refused the batch: `query_refused` (a query resembles an earlier one) or " +
        '`key_suspended`; a refused batch IS charged (it was asked), once, also when retried with the same Idempotency-Key',
      503: 'the state store (Redis) cannot be reached: nothing was answered or charged',
    },
    async handler(request, reply): Promise<PredictResponse> {
      const { classNames } = request.query;
      const { deployment, result, usage } = await answerQuery(ctx, request, reply, predict);
      const names = deployment.model.model.classNames;
      return { labels: Array.from(result), ...(classNames ? { classNames: Array.from(result, (l) => names[l] ?? '') } : {}), usage };
    },
  });
};
