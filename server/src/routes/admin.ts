// /v1/admin/* — the operator's routes: deployments at runtime (so a sweep over σ and n needs no
// restart), keys and their budgets, and the query counters.
import type { FastifyPluginAsync } from 'fastify';
import {
  AllUsage,
  BudgetUpdate,
  DeploymentSpec,
  DeploymentSpecList,
  KeyCreate,
  KeyCreated,
  KeyInfo,
  KeyList,
  Removed,
  ResetCount,
  UsageReset,
} from '@rs-arena/shared/api';
import { generateSecret, type ApiKey } from '../auth.js';
import { HttpError, notFound } from '../errors.js';
import { route } from '../route.js';
import type { RouteOptions } from '../context.js';
import { usageOf } from './usage.js';
import { storedKey } from '../state/sync.js';
import { keyOf } from './preamble.js';

const keyInfo = (k: ApiKey) => ({ id: k.id, role: k.role, budgets: k.budgets });

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  // Every route here is the admin's: the root onRequest hook (preamble.ts) authenticates it.
  const admin = { tag: 'admin', role: 'admin' as const, errors: [400, 401, 403, 404, 409] };
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, role: 'admin' };
  });

  route(app, ctx, {
    ...admin,
    method: 'get',
    url: '/v1/admin/deployments',
    operationId: 'adminListDeployments',
    summary: 'Every deployment with its full settings',
    response: DeploymentSpecList,
    handler: async () => ({ deployments: ctx.deployments.list().map((d) => d.spec) }),
  });

  route(app, ctx, {
    ...admin,
    method: 'post',
    url: '/v1/admin/deployments',
    operationId: 'addDeployment',
    summary: 'Add a deployment (loads its model if needed)',
    body: { json: DeploymentSpec, name: 'deployment' },
    response: DeploymentSpec,
    async handler(request, reply) {
      const spec = request.body;
      const deployment = await ctx.deployments.add(spec);
      try {
        await ctx.state.putDeployment(deployment.spec);
      } catch (err) {
        ctx.deployments.remove(spec.id); // not stored: not served, so replicas stay equal
        throw err;
      }
      request.log.info({ deployment: spec.id, model: spec.model, sigma: spec.sigma, n: spec.n }, 'deployment added');
      return reply.code(201).send(deployment.spec);
    },
  });

  route(app, ctx, {
    ...admin,
    method: 'delete',
    url: '/v1/admin/deployments/:id',
    operationId: 'removeDeployment',
    summary: 'Remove a deployment',
    response: Removed,
    async handler(request) {
      if (!ctx.deployments.has(request.params.id)) throw notFound(`no deployment "${request.params.id}"`);
      await ctx.state.deleteDeployment(request.params.id);
      ctx.deployments.remove(request.params.id);
      request.log.info({ deployment: request.params.id }, 'deployment removed');
      return { removed: request.params.id };
    },
  });

  route(app, ctx, {
    ...admin,
    method: 'get',
    url: '/v1/admin/keys',
    operationId: 'listKeys',
    summary: 'List keys (ids, roles, budgets; never secrets)',
    response: KeyList,
    handler: async () => ({ keys: ctx.keys.list().map(keyInfo) }),
  });

  route(app, ctx, {
    ...admin,
    method: 'post',
    url: '/v1/admin/keys',
    operationId: 'createKey',
    summary: 'Create a key; the secret is returned once',
    body: { json: KeyCreate, name: 'key' },
    response: KeyCreated,
    async handler(request, reply) {
      const body = request.body;
      const id = body.id ?? `${body.role}-${Math.random().toString(36).slice(2, 10)}`;
      const secret = body.secret ?? generateSecret();
      const key = ctx.keys.add({ id, role: body.role, budgets: body.budgets, secret });
      try {
        await ctx.state.putKey(storedKey(key));
      } catch (err) {
        ctx.keys.remove(id);
        throw err;
      }
      request.log.info({ newKey: id, role: body.role }, 'key created');
      return reply.code(201).send({ ...keyInfo(key), secret });
    },
  });

  route(app, ctx, {
    ...admin,
    method: 'delete',
    url: '/v1/admin/keys/:id',
    operationId: 'revokeKey',
    summary: 'Revoke a key',
    response: Removed,
    async handler(request) {
      if (!ctx.keys.get(request.params.id)) throw notFound(`no key "${request.params.id}"`);
      await ctx.state.deleteKey(request.params.id);
      ctx.keys.remove(request.params.id);
      await ctx.ledger.forgetKey(request.params.id);
      return { removed: request.params.id };
    },
  });

  route(app, ctx, {
    ...admin,
    method: 'put',
    url: '/v1/admin/keys/:id/budgets',
    operationId: 'setBudget',
    summary: 'Set a key\'s query budget on a deployment ("*": default; null: unlimited)',
    body: { json: BudgetUpdate, name: 'budget' },
    response: KeyInfo,
    async handler(request) {
      const key = ctx.keys.get(request.params.id);
      if (!key) throw notFound(`no key "${request.params.id}"`);
      const { deployment, limit } = request.body;
      if (deployment !== '*' && !ctx.deployments.has(deployment)) throw new HttpError(404, 'not_found', `no deployment "${deployment}"`);
      await ctx.state.putKey(storedKey({ ...key, budgets: { ...key.budgets, [deployment]: limit } }));
      key.budgets[deployment] = limit;
      return keyInfo(key);
    },
  });

  route(app, ctx, {
    ...admin,
    method: 'get',
    url: '/v1/admin/usage',
    operationId: 'allUsage',
    summary: "Every key's usage per deployment",
    response: AllUsage,
    handler: async (request) => ({ keys: await Promise.all(ctx.keys.list().map((k) => usageOf(ctx, k, keyOf(request)))) }),
  });

  route(app, ctx, {
    ...admin,
    method: 'post',
    url: '/v1/admin/usage/reset',
    operationId: 'resetUsage',
    summary: 'Zero the counters of a key, a deployment, both, or all',
    body: { json: UsageReset, name: 'reset', optional: true },
    response: ResetCount,
    async handler(request) {
      const { key, deployment } = request.body;
      return { reset: await ctx.ledger.reset(key, deployment) };
    },
  });
};
