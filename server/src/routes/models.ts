// /v1/admin/models — the models the server can deploy, and adding one at run time: drop a model
// folder (<models dir>/<id>/ with its .onnx file and optional config.json) and POST its id; the
// server reads its names, shape and classes from the file, records its sha256, and serves the
// deployments its config declares. No restart, no manifest edit.
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { DeploymentSpec } from '@rs-arena/shared/api';
import { findModel, sha256File } from '@rs-arena/shared/catalog';
import { join } from 'node:path';
import { HttpError, parseOr400 } from '../errors.js';
import type { RouteOptions } from '../context.js';
import { route } from '../route.js';
import { addToCatalog, loadModelFolder } from '../model-folder.js';

const ModelAdd = z.strictObject({ id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a model folder name: lowercase letters, digits, dot, dash or underscore') });
const ModelInfo = z.object({
  id: z.string(),
  file: z.string(),
  sha256: z.string(),
  dataset: z.string(),
  input: z.object({ name: z.string(), shape: z.array(z.number().int()), range: z.tuple([z.number(), z.number()]) }),
  output: z.object({ name: z.string(), classes: z.number().int() }),
});
const ModelList = z.object({ models: z.array(ModelInfo) });
const ModelAdded = z.object({ model: ModelInfo, deployments: z.array(z.string()) });

export const modelRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const admin = { tag: 'admin', role: 'admin' as const, errors: [400, 401, 403, 409] };
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, role: 'admin' };
  });

  const info = (id: string): z.infer<typeof ModelInfo> => {
    const m = findModel(ctx.catalog, id)!;
    return {
      id: m.id,
      file: m.file,
      sha256: m.sha256,
      dataset: m.dataset,
      input: { name: m.input.name, shape: [...m.input.shape], range: m.input.range },
      output: m.output,
    };
  };

  route(app, ctx, {
    ...admin,
    method: 'get',
    url: '/v1/admin/models',
    operationId: 'listModels',
    summary: 'The models the server can deploy: file, sha256, input and output read from the model',
    response: ModelList,
    handler: async () => ({ models: ctx.catalog.manifest.models.map((m) => info(m.id)) }),
  });

  route(app, ctx, {
    ...admin,
    method: 'post',
    url: '/v1/admin/models',
    operationId: 'addModel',
    summary: 'Add a model folder at run time (its id under the models folder) and serve the deployments its config declares',
    body: { json: ModelAdd, name: 'model' },
    response: ModelAdded,
    handler: async (request, reply) => addModel(request.body.id, request.log, reply),
  });

  const addModel = async (id: string, log: FastifyBaseLogger, reply: FastifyReply) => {
    if (findModel(ctx.catalog, id)) throw new HttpError(409, 'conflict', `model "${id}" is already known`);
    let model;
    try {
      model = await loadModelFolder(ctx.catalog, id);
    } catch (err) {
      throw new HttpError(400, 'invalid_model', (err as Error).message);
    }
    // Its deployments are checked before the model joins the catalog: a bad one adds nothing.
    const specs = model.deployments.map((d) => parseOr400(DeploymentSpec, d, 'deployment'));
    const taken = specs.find((s) => ctx.deployments.has(s.id));
    if (taken) throw new HttpError(409, 'conflict', `deployment "${taken.id}" exists already`);
    addToCatalog(ctx.catalog, model);
    const added: string[] = [];
    for (const spec of specs) {
      await ctx.deployments.add(spec);
      await ctx.state.putDeployment(spec);
      added.push(spec.id);
    }
    log.info({ model: id, sha256: model.sha256, file: join(ctx.catalog.dir, model.entry.file) }, 'model added');
    return reply.code(201).send({ model: { ...info(id), sha256: sha256File(join(ctx.catalog.dir, model.entry.file)) }, deployments: added });
  };
};
