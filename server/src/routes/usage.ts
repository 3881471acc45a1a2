// GET /v1/usage — the caller's own counts per deployment: queries, forward passes, budget.
// Forward passes ÷ queries is n: a client sees them only for deployments that disclose n.
import type { FastifyPluginAsync } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { budgetFor, type ApiKey } from '../auth.js';
import type { AppContext, RouteOptions } from '../context.js';
import { keyOf } from './preamble.js';

/** A key's usage as `viewer` may see it (the admin sees everything; a client not what reveals n). */
export async function usageOf(ctx: AppContext, key: ApiKey, viewer: ApiKey = key): Promise<UsageResponse> {
  // Every live deployment (so a fresh key sees its budgets), plus any removed one it has used.
  const used = await ctx.ledger.accountsOf(key.id);
  const ids = new Set([...ctx.deployments.list().map((d) => d.id), ...used.map(([id]) => id)]);
  const hidden = (id: string) => viewer.role === 'client' && !(ctx.deployments.has(id) && ctx.deployments.get(id).disclosed);
  const deployments = [];
  for (const id of ids) {
    const limit = budgetFor(key, id);
    const { queries, forwardPasses, rejected } = await ctx.ledger.account(key.id, id);
    deployments.push({
      deployment: id,
      queries,
      ...(hidden(id) ? {} : { forwardPasses }),
      rejected,
      limit,
      remaining: limit === null ? null : Math.max(0, limit - queries),
    });
  }
  return { key: { id: key.id, role: key.role }, deployments };
}

export const usageRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  ctx.openapi.add({ method: 'get', path: '/v1/usage', summary: "The caller's queries, forward passes and budget per deployment", tag: 'query', role: 'client', response: UsageResponse, errors: [401] });
  app.get('/v1/usage', { config: { role: 'client' } }, async (request) => usageOf(ctx, keyOf(request)));
};
