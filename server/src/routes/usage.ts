// GET /v1/usage — the caller's own counts per deployment: queries, forward passes, budget.
// Forward passes ÷ queries is n: a client sees them only for deployments that disclose n.
import type { FastifyPluginAsync } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { budgetFor, type ApiKey } from '../auth.js';
import type { AppContext, RouteOptions } from '../context.js';
import { emptyAccount } from '../budget.js';
import { keyOf } from './preamble.js';
import { route } from '../route.js';

/** A key's usage as `viewer` may see it (the admin sees everything; a client not what reveals n). */
export async function usageOf(ctx: AppContext, key: ApiKey, viewer: ApiKey = key): Promise<UsageResponse> {
  // Every live deployment (so a fresh key sees its budgets), plus any removed one it has used.
  const accounts = await ctx.ledger.accountsOf(key.id);
  const ids = new Set([...ctx.deployments.list().map((d) => d.id), ...accounts.keys()]);
  const hidden = (id: string) => viewer.role === 'client' && !(ctx.deployments.has(id) && ctx.deployments.get(id).disclosed);
  return {
    key: { id: key.id, role: key.role },
    deployments: [...ids].map((id) => {
      const limit = budgetFor(key, id);
      const { queries, forwardPasses, rejected } = accounts.get(id) ?? emptyAccount();
      return {
        deployment: id,
        queries,
        ...(hidden(id) ? {} : { forwardPasses }),
        rejected,
        limit,
        remaining: limit === null ? null : Math.max(0, limit - queries),
      };
    }),
  };
}

export const usageRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  route(app, ctx, {
    method: 'get',
    url: '/v1/usage',
    operationId: 'usage',
    summary: "The caller's queries, forward passes and budget per deployment",
    tag: 'query',
    role: 'client',
    response: UsageResponse,
    errors: [401],
    handler: async (request) => usageOf(ctx, keyOf(request)),
  });
};
