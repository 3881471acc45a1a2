// What every protected route does before its own work, written once:
// 1. `authenticate`: an onRequest hook (runs before any body is read) that checks the bearer key
//    against the role the route declares in its config (`config: { role: 'client' }`).
// 2. `answerQuery`: for the model routes, the deployment, whether its defense has the operation,
//    the route's parameters, the decoded inputs, the per-role forward-pass cap, then the charge
//    (charge.ts) and the defense's work, cancelled if the client goes away.
// Another route plugin (e.g. another protocol's routes) reuses both: declare a role in the route
// config and call `answerQuery` with its own `QueryRoute`.
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Role, Usage } from '@rs-arena/shared/api';
import { authorize, type ApiKey } from '../auth.js';
import { decodeInputs } from '../body.js';
import { HttpError } from '../errors.js';
import type { Operation, Defense } from '../defense.js';
import type { Deployment } from '../deployments.js';
import type { AppContext } from '../context.js';
import { charged } from './charge.js';
import { bindLog } from '../request-logger.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Least role a route needs; absent: open to anyone. */
    role?: Role;
  }
  interface FastifyRequest {
    /** The caller's key, set by `authenticate` on routes that declare a role. */
    apiKey: ApiKey | null;
  }
}

/** The onRequest hook that authenticates every route declaring a role (register it at the root). */
export function authenticate(ctx: AppContext): onRequestHookHandler {
  return async (request, reply) => {
    const role = request.routeOptions.config.role;
    if (!role) return;
    try {
      request.apiKey = authorize(ctx.keys, request.headers.authorization, role);
    } catch (err) {
      // Refused before the body is read: close the connection instead of draining a large body.
      if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined) {
        reply.header('connection', 'close');
      }
      throw err;
    }
    bindLog(request, { keyId: request.apiKey.id });
  };
}

/** The key `authenticate` found (a route without a declared role has none). */
export function keyOf(request: FastifyRequest): ApiKey {
  if (!request.apiKey) throw new Error(`route ${request.routeOptions.url} declares no role: no key to read`);
  return request.apiKey;
}

/** A request's inputs, decoded: `count` inputs laid back to back in `values`. */
export interface Inputs {
  values: Float32Array;
  count: number;
}

/** One model operation as a route exposes it. */
export interface QueryRoute<P, R, I extends Inputs = Inputs> {
  /** Its name in metrics and messages: predict, votes, certify… */
  name: string;
  /** The defense's operation, or undefined where the defense cannot do it (a 400 naming it). */
  operation(defense: Defense): Operation<P, R> | undefined;
  /** The route's own parameters from the request, or a 4xx naming the bad one. */
  params(request: FastifyRequest, deployment: Deployment): P;
  /** The deployment the request names; default: the `:id` route parameter. */
  deployment?(ctx: AppContext, request: FastifyRequest): Deployment;
  /** The decoded inputs; default: /v1's bodies (body.ts). Another protocol decodes its own. */
  inputs?(request: FastifyRequest, deployment: Deployment): I | Promise<I>;
}

export interface Answer<P, R, I extends Inputs = Inputs> {
  deployment: Deployment;
  params: P;
  inputs: I;
  count: number;
  result: R;
  usage: Usage;
}

/** The deployment the route's `:id` names, or a 404. */
function deploymentOf(ctx: AppContext, request: FastifyRequest): Deployment {
  const { id } = request.params as { id: string };
  const deployment = ctx.deployments.get(id);
  bindLog(request, { deployment: deployment.id });
  return deployment;
}

/** Everything between an authenticated request and its answer, for any model route. */
export async function answerQuery<P, R, I extends Inputs = Inputs>(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  route: QueryRoute<P, R, I>,
): Promise<Answer<P, R, I>> {
  const key = keyOf(request);
  const deployment = route.deployment ? route.deployment(ctx, request) : deploymentOf(ctx, request);
  const { defense } = deployment;
  const operation = route.operation(defense);
  if (!operation) {
    throw new HttpError(
      400,
      'unsupported_operation',
      `deployment "${deployment.id}" (defense "${defense.name}", σ = ${defense.sigma}) does not support ${route.name}`,
    );
  }
  const params = route.params(request, deployment);
  const inputs = route.inputs ? await route.inputs(request, deployment) : ((await decodeInputs(request, deployment)) as Inputs as I);
  const { values, count } = inputs;
  const forwardPasses = operation.cost(count, params);
  const cap = ctx.config.maxForwardPasses[key.role];
  if (forwardPasses > cap) {
    // A client must not learn an undisclosed deployment's n from the numbers.
    const detail = key.role === 'client' && !deployment.disclosed ? 'send fewer inputs' : `it needs ${forwardPasses} forward passes`;
    throw new HttpError(413, 'compute_cap', `this request exceeds the ${key.role} role's cap of forward passes per request: ${detail}`);
  }
  const { result, usage } = await charged({
    ctx,
    request,
    reply,
    key,
    deployment,
    route: route.name,
    count,
    forwardPasses,
    run: (signal) => operation.run(values, count, params, { signal, key: key.id }),
    ...(operation.spent ? { spent: (r: R) => operation.spent!(r, count, params) } : {}),
  });
  return { deployment, params, inputs, count, result, usage };
}
