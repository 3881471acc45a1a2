// POST /v1/deployments/:id/votes — evaluator only: the base model's vote counts over n noisy
// copies per input, to test the paper's confidence level P_a. Never open to a plain client.
import type { FastifyPluginAsync } from 'fastify';
import { InputsBody, VotesQuery, VotesResponse } from '@rs-arena/shared/api';
import { authorize } from '../auth.js';
import { decodeInputs } from '../body.js';
import { badRequest, parseOr400 } from '../errors.js';
import type { RouteOptions } from '../context.js';
import { charged } from './charge.js';

export const votesRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({
    method: 'post',
    path: '/v1/deployments/:id/votes',
    summary: "Vote counts per class over n noisy copies of each input (evaluator role; n defaults to the deployment's)",
    tag: 'evaluation',
    role: 'evaluator',
    query: VotesQuery,
    body: { json: InputsBody, binary: true, image: true },
    response: VotesResponse,
    errors: [400, 401, 403, 404, 413, 415, 429],
  });

  app.post<{ Params: { id: string } }>('/v1/deployments/:id/votes', async (request): Promise<VotesResponse> => {
    const key = authorize(ctx.keys, request.headers.authorization, 'evaluator');
    const deployment = ctx.deployments.get(request.params.id);
    request.log = request.log.child({ keyId: key.id, deployment: deployment.id });
    const query = parseOr400(VotesQuery, request.query, 'query');
    const n = query.n ?? deployment.spec.n;
    if (n > ctx.config.maxVotesN) throw badRequest(`n = ${n} exceeds the server's maxVotesN of ${ctx.config.maxVotesN}`);
    const { values, count } = await decodeInputs(request, deployment);
    const { result, usage } = await charged(ctx, request, key, deployment, 'votes', count, deployment.forwardPasses(count, n), () =>
      deployment.smoothed.votes(values, count, n, deployment.noise),
    );
    const classes = deployment.model.classes;
    const counts = Array.from({ length: count }, (_, i) => Array.from(result.subarray(i * classes, (i + 1) * classes)));
    return { sigma: deployment.spec.sigma, n, counts, usage };
  });
};
