// /v1/admin/* — the operator's routes: deployments at runtime (so a sweep over σ and n needs no
// restart), keys and their budgets, and the query counters.
import type { FastifyPluginAsync } from 'fastify';
import {
  AllUsage, BudgetUpdate, DeploymentSpec, DeploymentSpecList, KeyCreate, KeyCreated, KeyInfo, KeyList, Removed, ResetCount, UsageReset,
  type DeploymentSpecInput,
} from '@rs-arena/shared/api';
import { generateSecret, type ApiKey } from '../auth.js';
import { HttpError, notFound, parseOr400 } from '../errors.js';
import type { RouteOptions } from '../context.js';
import { usageOf } from './usage.js';
import { storedKey } from '../state/sync.js';
import { keyOf } from './preamble.js';

const keyInfo = (k: ApiKey) => ({ id: k.id, role: k.role, budgets: k.budgets });

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const op = (method: 'get' | 'post' | 'put' | 'delete', path: string, summary: string, response: import('zod').ZodType, json?: import('zod').ZodType) =>
    ctx.openapi.add({ method, path, summary, tag: 'admin', role: 'admin', response, ...(json ? { body: { json } } : {}), errors: [400, 401, 403, 404, 409] });
  op('get', '/v1/admin/deployments', 'Every deployment with its full settings', DeploymentSpecList);
  op('post', '/v1/admin/deployments', 'Add a deployment (loads its model if needed)', DeploymentSpec, DeploymentSpec);
  op('delete', '/v1/admin/deployments/:id', 'Remove a deployment', Removed);
  op('get', '/v1/admin/keys', 'List keys (ids, roles, budgets; never secrets)', KeyList);
  op('post', '/v1/admin/keys', 'Create a key; the secret is returned once', KeyCreated, KeyCreate);
  op('delete', '/v1/admin/keys/:id', 'Revoke a key', Removed);
  op('put', '/v1/admin/keys/:id/budgets', "Set a key's query budget on a deployment (\"*\": default; null: unlimited)", KeyInfo, BudgetUpdate);
  op('get', '/v1/admin/usage', "Every key's usage per deployment", AllUsage);
  op('post', '/v1/admin/usage/reset', 'Zero the counters of a key, a deployment, both, or all', ResetCount, UsageReset);

  // Every route here is the admin's: the root onRequest hook (preamble.ts) authenticates it.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, role: 'admin' };
  });

  app.get('/v1/admin/deployments', async () => ({ deployments: ctx.deployments.list().map((d) => d.spec) }));

  app.post('/v1/admin/deployments', async (request, reply) => {
    const spec = parseOr400(DeploymentSpec, request.body as DeploymentSpecInput, 'deployment');
    const deployment = await ctx.deployments.add(spec);
    try {
      await ctx.state.putDeployment(deployment.spec);
    } catch (err) {
      ctx.deployments.remove(spec.id); // not stored: not served, so replicas stay equal
      throw err;
    }
    request.log.info({ deployment: spec.id, model: spec.model, sigma: spec.sigma, n: spec.n }, 'deployment added');
    return reply.code(201).send(deployment.spec);
  });

  app.delete<{ Params: { id: string } }>('/v1/admin/deployments/:id', async (request) => {
    if (!ctx.deployments.has(request.params.id)) throw notFound(`no deployment "${request.params.id}"`);
    await ctx.state.deleteDeployment(request.params.id);
    ctx.deployments.remove(request.params.id);
    request.log.info({ deployment: request.params.id }, 'deployment removed');
    return { removed: request.params.id };
  });

  app.get('/v1/admin/keys', async () => ({ keys: ctx.keys.list().map(keyInfo) }));

  app.post('/v1/admin/keys', async (request, reply) => {
    const body = parseOr400(KeyCreate, request.body, 'key');
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
  });

  app.delete<{ Params: { id: string } }>('/v1/admin/keys/:id', async (request) => {
    if (!ctx.keys.get(request.params.id)) throw notFound(`no key "${request.params.id}"`);
    await ctx.state.deleteKey(request.params.id);
    ctx.keys.remove(request.params.id);
    await ctx.ledger.forgetKey(request.params.id);
    return { removed: request.params.id };
  });

  app.put<{ Params: { id: string } }>('/v1/admin/keys/:id/budgets', async (request) => {
    const key = ctx.keys.get(request.params.id);
    if (!key) throw notFound(`no key "${request.params.id}"`);
    const { deployment, limit } = parseOr400(BudgetUpdate, request.body, 'budget');
    if (deployment !== '*' && !ctx.deployments.has(deployment)) throw new HttpError(404, 'not_found', `no deployment "${deployment}"`);
    await ctx.state.putKey(storedKey({ ...key, budgets: { ...key.budgets, [deployment]: limit } }));
    key.budgets[deployment] = limit;
    return keyInfo(key);
  });

  app.get('/v1/admin/usage', async (request) => ({ keys: await Promise.all(ctx.keys.list().map((k) => usageOf(ctx, k, keyOf(request)))) }));

  app.post('/v1/admin/usage/reset', async (request) => {
    const { key, deployment } = parseOr400(UsageReset, request.body ?? {}, 'reset');
    return { reset: await ctx.ledger.reset(key, deployment) };
  });
};
