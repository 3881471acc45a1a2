// POST /v1/deployments/:id/certify — evaluator only: Cohen et al.'s CERTIFY per input.
import type { FastifyPluginAsync } from 'fastify';
import { CertifyBody, CertifyParams, CertifyResponse } from '@rs-arena/shared/api';
import { authorize } from '../auth.js';
import { decodeInputs } from '../body.js';
import { badRequest, parseOr400 } from '../errors.js';
import type { RouteOptions } from '../context.js';
import { ABSTAIN } from '../smoothing.js';
import { charged } from './charge.js';

export const certifyRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({
    method: 'post',
    path: '/v1/deployments/:id/certify',
    summary: "Cohen et al.'s CERTIFY: class or abstain, the Clopper-Pearson lower bound on p_A and the radius σΦ⁻¹(p_A) (evaluator role)",
    tag: 'evaluation',
    role: 'evaluator',
    query: CertifyParams,
    body: { json: CertifyBody, binary: true },
    response: CertifyResponse,
    errors: [400, 401, 403, 404, 413, 415, 429],
  });

  app.post<{ Params: { id: string } }>('/v1/deployments/:id/certify', async (request): Promise<CertifyResponse> => {
    const key = authorize(ctx.keys, request.headers.authorization, 'evaluator');
    const deployment = ctx.deployments.get(request.params.id);
    request.log = request.log.child({ keyId: key.id, deployment: deployment.id });
    // Parameters come from the JSON body, or from the query string with a binary body.
    const isJson = typeof request.body === 'object' && !Buffer.isBuffer(request.body);
    const { n0, n, alpha } = parseOr400(CertifyParams, isJson ? request.body : request.query, isJson ? 'body' : 'query');
    if (n > ctx.config.maxCertifyN) throw badRequest(`n = ${n} exceeds the server's maxCertifyN of ${ctx.config.maxCertifyN}`);
    if (deployment.spec.sigma === 0) throw badRequest(`deployment "${deployment.id}" has σ = 0: there is nothing to certify`, 'no_smoothing');
    const { values, count } = await decodeInputs(request, deployment);
    const size = deployment.model.inputSize;
    const { result, usage } = await charged(ctx, request, key, deployment, 'certify', count, count * (n0 + n), async () => {
      const out = [];
      for (let i = 0; i < count; i++) {
        const c = await deployment.smoothed.certify(values.subarray(i * size, (i + 1) * size), n0, n, alpha, deployment.noise);
                out.push({ label: c.label, abstain: c.label === ABSTAIN, nA: c.counts[c.candidate], pLower: c.pLower, radius: c.radius });
      }
      return out;
    });
    return { sigma: deployment.spec.sigma, n0, n, alpha, results: result, usage };
  });
};
