// POST /v1/deployments/:id/certify — evaluator only: Cohen et al.'s CERTIFY per input.
import type { FastifyPluginAsync } from 'fastify';
import { CertifyBody, CertifyParams, CertifyQuery, CertifyResponse } from '@rs-arena/shared/api';
import type { z } from 'zod';
import { badRequest, parseOr400 } from '../errors.js';
import { route } from '../route.js';
import type { AppContext, RouteOptions } from '../context.js';
import type { CertifyOutcome, CertifyParams as Params } from '../defense.js';
import { answerQuery, type QueryRoute } from './preamble.js';

const certify = (ctx: AppContext): QueryRoute<Params, CertifyOutcome[]> => ({
  name: 'certify',
  operation: (defense) => defense.certify,
  params(request) {
    // Parameters come from the JSON body (numbers), or from the query string with a binary body.
    const isJson = typeof request.body === 'object' && request.body !== null && !Buffer.isBuffer(request.body);
    // The query string was parsed by the route (route.ts): its defaults where it says nothing.
    const params = isJson ? parseOr400(CertifyParams, request.body, 'body') : (request.query as z.output<typeof CertifyQuery>);
    if (params.n > ctx.config.maxCertifyN) throw badRequest(`n = ${params.n} exceeds the server's maxCertifyN of ${ctx.config.maxCertifyN}`);
    return params;
  },
});

export const certifyRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const certifyRoute = certify(ctx);
  route(app, ctx, {
    method: 'post',
    url: '/v1/deployments/:id/certify',
    operationId: 'certify',
    summary: "Cohen et al.'s CERTIFY: class or abstain, the Clopper-Pearson lower bound on p_A and the radius σΦ⁻¹(p_A) (evaluator role)",
    tag: 'evaluation',
    role: 'evaluator',
    query: CertifyQuery,
    body: { json: CertifyBody, binary: true },
    response: CertifyResponse,
    errors: [400, 401, 403, 404, 408, 413, 415, 429],
    async handler(request, reply): Promise<CertifyResponse> {
      const { deployment, params, result, usage } = await answerQuery(ctx, request, reply, certifyRoute);
      return { sigma: deployment.defense.sigma, ...params, results: result, usage };
    },
  });
};
