// POST /v1/deployments/:id/votes — evaluator only: the base model's vote counts over n noisy
// copies per input, to test the paper's confidence level P_a. Never open to a plain client.
import type { FastifyPluginAsync } from 'fastify';
import { InputsBody, VotesQuery, VotesResponse } from '@rs-arena/shared/api';
import { badRequest, parseOr400 } from '../errors.js';
import type { AppContext, RouteOptions } from '../context.js';
import type { VotesParams } from '../defense.js';
import { answerQuery, type QueryRoute } from './preamble.js';

const votes = (ctx: AppContext): QueryRoute<VotesParams, Uint32Array> => ({
  name: 'votes',
  operation: (defense) => defense.votes,
  params(request, deployment) {
    const n = parseOr400(VotesQuery, request.query, 'query').n ?? deployment.defense.defaultN;
    if (n > ctx.config.maxVotesN) throw badRequest(`n = ${n} exceeds the server's maxVotesN of ${ctx.config.maxVotesN}`);
    return { n };
  },
});

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
    errors: [400, 401, 403, 404, 408, 413, 415, 429],
  });

  const route = votes(ctx);
  app.post('/v1/deployments/:id/votes', { config: { role: 'evaluator' } }, async (request, reply): Promise<VotesResponse> => {
    const { deployment, params, count, result, usage } = await answerQuery(ctx, request, reply, route);
    const classes = deployment.model.classes;
    const counts = Array.from({ length: count }, (_, i) => Array.from(result.subarray(i * classes, (i + 1) * classes)));
    return { sigma: deployment.defense.sigma, n: params.n, counts, usage };
  });
};
