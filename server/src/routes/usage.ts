// GET /v1/usage — the caller's own counts per deployment: queries, forward passes, budget.
import type { FastifyPluginAsync } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { authorize, budgetFor, type ApiKey } from '../auth.js';
import type { AppContext, RouteOptions } from '../context.js';
import { emptyAccount } from '../budget.js';

export async function usageOf(ctx: AppContext, key: ApiKey): Promise<UsageResponse> {
  // Every live deployment (so a fresh key sees its budgets), plus any removed one it has used.
  const accounts = await ctx.ledger.accountsOf(key.id);
  const ids = new Set([...ctx.deployments.list().map((d) => d.id), ...accounts.keys()]);
  return {
    key: { id: key.id, role: key.role },
    deployments: [...ids].map((id) => {
      const limit = budgetFor(key, id);
      const acc = accounts.get(id) ?? emptyAccount();
      return { deployment: id, ...acc, limit, remaining: limit === null ? null : Math.max(0, limit - acc.queries) };
    }),
  };
}

export const usageRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({ method: 'get', path: '/v1/usage', summary: "The caller's queries, forward passes and budget per deployment", tag: 'query', role: 'client', response: UsageResponse, errors: [401] });
  app.get('/v1/usage', async (request) => usageOf(ctx, authorize(ctx.keys, request.headers.authorization, 'client')));
};
