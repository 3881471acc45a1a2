// POST /v1/deployments/:id/votes — evaluator only: the base model's vote counts over n noisy
// copies per input, to test the paper's confidence level P_a. Never open to a plain client.
import type { FastifyPluginAsync } from 'fastify';
import type { z } from 'zod';
import { InputsBody, VotesQuery, VotesResponse } from '@rs-arena/shared/api';
import { shortcutThreshold } from '@rs-arena/shared/stats';
import { badRequest } from '../errors.js';
import { route } from '../route.js';
import type { AppContext, RouteOptions } from '../context.js';
import type { VotesOutcome, VotesParams } from '../defense.js';
import { answerQuery, type QueryRoute } from './preamble.js';

const votes = (ctx: AppContext): QueryRoute<VotesParams, VotesOutcome> => ({
  name: 'votes',
  operation: (defense) => defense.votes,
  params(request, deployment) {
    // Parsed by the route (route.ts) before the handler.
    const query = request.query as z.output<typeof VotesQuery>;
    const n = query.n ?? deployment.defense.defaultN;
    if (n > ctx.config.maxVotesN) throw badRequest(`n = ${n} exceeds the server's maxVotesN of ${ctx.config.maxVotesN}`);
    return { n, ...earlyStop(query, n, deployment.model.classes) };
  },
});

/** The early-stop option: a label with either `wrong` or `Pa` (wrong = ⌈n·P_a⌉), or none of them. */
function earlyStop({ label, wrong, Pa }: z.infer<typeof VotesQuery>, n: number, classes: number): Pick<VotesParams, 'stop'> {
  if (label === undefined && wrong === undefined && Pa === undefined) return {};
  if (label === undefined) throw badRequest(`query.label: an early stop (${wrong !== undefined ? 'wrong' : 'Pa'}) needs the label the votes are compared with`);
  if (label >= classes) throw badRequest(`query.label: ${label} is not a class of this model (0 to ${classes - 1})`);
  if (wrong !== undefined && Pa !== undefined) throw badRequest('query.wrong, query.Pa: give one of them, not both');
  if (wrong === undefined && Pa === undefined) throw badRequest('query.label: an early stop needs wrong (a vote count) or Pa (a level in (0, 1])');
  const k = wrong ?? shortcutThreshold(n, Pa!);
  if (k > n) throw badRequest(`query.wrong: ${k} exceeds n = ${n}`);
  return { stop: { label, wrong: Math.max(1, k) } };
}

export const votesRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const votesRoute = votes(ctx);
  route(app, ctx, {
    method: 'post',
    url: '/v1/deployments/:id/votes',
    operationId: 'votes',
    summary: "Vote counts per class over n noisy copies of each input (evaluator role; n defaults to the deployment's)",
    tag: 'evaluation',
    role: 'evaluator',
    query: VotesQuery,
    body: { json: InputsBody, binary: true, image: true },
    response: VotesResponse,
    errors: [400, 401, 403, 404, 408, 413, 415, 429],
    async handler(request, reply): Promise<VotesResponse> {
      const { deployment, params, count, result, usage } = await answerQuery(ctx, request, reply, votesRoute);
      const classes = deployment.model.classes;
      const counts = Array.from({ length: count }, (_, i) => Array.from(result.counts.subarray(i * classes, (i + 1) * classes)));
      return { sigma: deployment.defense.sigma, n: params.n, counts, ...(result.passes ? { passes: Array.from(result.passes) } : {}), usage };
    },
  });
};
