// /v2 — the Open Inference Protocol (KServe v2, Triton HTTP/REST) for every deployment, beside /v1:
// server metadata and health, model metadata and readiness, and infer with JSON tensors or Triton's
// binary tensor data extension. A deployment is a model named by its id, with one version "1", one
// FP32 input [-1, C, H, W] and one output: its top-1 label, INT64 [-1, 1] (−1 where Cohen's PREDICT
// abstains). Same keys, budgets, counting, limits and disclosure as /v1; errors are the protocol's
// `{"error": "..."}`, and a malformed request is refused before anything is charged.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  HEADER_LENGTH,
  InferenceRequest,
  InferenceResponse,
  LiveResponse,
  ModelMetadata,
  ModelReadyResponse,
  OipErrorBody,
  OipFormatError,
  ReadyResponse,
  ServerMetadata,
  decodeInferRequest,
  encodeInferResponse,
  wantsBinary,
  type Tensor,
  ModelConfig,
  ModelStats,
} from '@rs-arena/shared/oip';
import { usageOf } from './usage.js';
import { keyOf } from './preamble.js';
import { HttpError } from '../errors.js';
import type { Deployment } from '../deployments.js';
import type { AppContext, RouteOptions } from '../context.js';
import { answerQuery, type QueryRoute } from './preamble.js';
import { route } from '../route.js';

const INPUT_NAME = 'input';
const OUTPUT_NAME = 'label';
const MODEL_VERSION = '1';
const EXTENSIONS = ['binary_tensor_data'];

const bad = (message: string) => new HttpError(400, 'bad_request', message);

/** Infer through the one preamble (preamble.ts): /v2 names the deployment and decodes its own body. */
const inferRoute: QueryRoute<void, Int32Array, DecodedInfer> = {
  name: 'infer',
  operation: (defense) => defense.predict,
  params: () => undefined,
  deployment: (ctx, request) => deploymentOf(ctx, paramsOf(request)),
  inputs: (request, deployment) => decodeInfer(request, deployment),
};

interface DecodedInfer {
  values: Float32Array;
  count: number;
  request: InferenceRequest;
}

export const v2Routes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  await app.register(protocol, { ctx, prefix: '/v2' });
};

const protocol: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  // Any content type: a JSON request, or the binary extension (JSON header + raw tensors), read as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));

  const oip = { tag: 'open-inference-protocol', errorBody: OipErrorBody };
  route(app, ctx, {
    ...oip,
    method: 'get',
    url: '/',
    operationId: 'v2ServerMetadata',
    summary: 'Server metadata (Open Inference Protocol): name, version, extensions',
    response: ServerMetadata,
    handler: async () => ({ name: 'rs-arena', version: process.env.npm_package_version ?? '0.1.0', extensions: EXTENSIONS }),
  });
  route(app, ctx, {
    ...oip,
    method: 'get',
    url: '/health/live',
    operationId: 'v2ServerLive',
    summary: 'Server liveness (200: live)',
    response: LiveResponse,
    handler: async () => ({ live: true }),
  });
  route(app, ctx, {
    ...oip,
    method: 'get',
    url: '/health/ready',
    operationId: 'v2ServerReady',
    summary: 'Server readiness (200: the configured deployments have loaded; 400: not yet)',
    response: ReadyResponse,
    errors: [400],
    // The protocol's probes answer by status code: 200 true, 4xx false.
    handler: async (_request, reply) => reply.code(ctx.ready ? 200 : 400).send({ ready: ctx.ready }),
  });

  await app.register(async (models: FastifyInstance) => {
    // Authenticated by the root `authenticate` hook (preamble.ts), before any body is read.
    const client = { ...oip, role: 'client' as const, errors: [401, 403, 404] };
    for (const [base, id] of [
      ['/models/:model', 'v2Model'],
      ['/models/:model/versions/:version', 'v2ModelVersion'],
    ] as const) {
      route(models, ctx, {
        ...client,
        method: 'get',
        url: base,
        operationId: `${id}Metadata`,
        summary: 'Model metadata of a deployment: FP32 input [-1, C, H, W], INT64 top-1 label output [-1, 1]',
        response: ModelMetadata,
        handler: async (request) => metadata(deploymentOf(ctx, paramsOf(request))),
      });
      route(models, ctx, {
        ...client,
        method: 'get',
        url: `${base}/ready`,
        operationId: `${id}Ready`,
        summary: 'Model readiness',
        response: ModelReadyResponse,
        handler: async (request) => ({ name: deploymentOf(ctx, paramsOf(request)).id, ready: ctx.ready }),
      });
      route(models, ctx, {
        ...client,
        method: 'get',
        url: `${base}/config`,
        operationId: `${id}Config`,
        summary: "Model configuration (Triton's): max batch size, tensors, class names",
        response: ModelConfig,
        handler: async (request) => modelConfig(deploymentOf(ctx, paramsOf(request))),
      });
      route(models, ctx, {
        ...client,
        method: 'get',
        url: `${base}/stats`,
        operationId: `${id}Stats`,
        summary: "Model statistics (Triton's), for the caller's own key: its queries on the model",
        response: ModelStats,
        async handler(request) {
          const d = deploymentOf(ctx, paramsOf(request));
          // The caller's own queries only: other keys' traffic is not a client's to read.
          const mine = (await usageOf(ctx, keyOf(request))).deployments.find((u) => u.deployment === d.id);
          const count = mine?.queries ?? 0;
          return { model_stats: [{ name: d.id, version: MODEL_VERSION, inference_count: count, execution_count: count }] };
        },
      });
      route(models, ctx, {
        ...client,
        method: 'post',
        url: `${base}/infer`,
        operationId: `${id}Infer`,
        summary:
          'Top-1 labels of the defended classifier (each batch item is one query). JSON tensors, or the binary tensor data extension: ' +
          'the JSON header, then the raw little-endian FP32 tensor, with Inference-Header-Content-Length and parameters.binary_data_size; ' +
          'outputs come back binary with outputs[].parameters.binary_data or parameters.binary_data_output.',
        body: { json: InferenceRequest, decodedByRoute: true },
        response: InferenceResponse,
        errors: [400, 401, 403, 404, 413, 429],
        handler: (request, reply) => infer(ctx, request, reply),
      });
    }
  });
};

/** The route's :model and :version. */
const paramsOf = (request: FastifyRequest) => request.params as ModelParams;

interface ModelParams {
  model: string;
  version?: string;
}

function deploymentOf(ctx: AppContext, { model, version }: ModelParams): Deployment {
  if (!ctx.deployments.has(model)) throw new HttpError(404, 'not_found', `unknown model "${model}"`);
  if (version !== undefined && version !== MODEL_VERSION) {
    throw new HttpError(404, 'not_found', `model "${model}" has no version "${version}" (versions: ${MODEL_VERSION})`);
  }
  return ctx.deployments.get(model);
}

/** What a client may know, and nothing about σ, n or the base model. */
function metadata(d: Deployment): ModelMetadata {
  return {
    name: d.id,
    versions: [MODEL_VERSION],
    platform: 'rs-arena',
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, ...d.model.inputShape] }],
    outputs: [{ name: OUTPUT_NAME, datatype: 'INT64', shape: [-1, 1] }],
  };
}

/** Triton's model configuration: what the metadata says, plus the batch limit and the class names (nothing about σ, n or the base model). */
function modelConfig(d: Deployment): ModelConfig {
  const classNames = d.model.model.classNames;
  return {
    name: d.id,
    platform: 'rs-arena',
    max_batch_size: d.maxBatch,
    input: [{ name: INPUT_NAME, data_type: 'TYPE_FP32', dims: [...d.model.inputShape] }],
    output: [{ name: OUTPUT_NAME, data_type: 'TYPE_INT64', dims: [1] }],
    parameters: { class_names: [...classNames], classes: classNames.length },
  };
}

async function infer(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const { deployment, inputs, count, result, usage } = await answerQuery(ctx, request, reply, inferRoute);
  const req = inputs.request;
  const encoded = encodeInferResponse(
    {
      model_name: deployment.id,
      model_version: MODEL_VERSION,
      ...(req.id !== undefined ? { id: req.id } : {}),
      parameters: { queries_used: usage.used, ...(usage.remaining !== null ? { queries_remaining: usage.remaining } : {}) },
    },
    [{ name: OUTPUT_NAME, datatype: 'INT64', shape: [count, 1], data: BigInt64Array.from(result, BigInt), binary: wantsBinary(req, OUTPUT_NAME) }],
  );
  return reply.headers(encoded.headers).send(encoded.body);
}

/** The body as an inference request: the one input checked, the outputs asked for known. */
function decodeInfer(request: FastifyRequest, deployment: Deployment): DecodedInfer {
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw bad('empty body: expected an inference request (JSON, or the binary tensor data extension)');
  const header = request.headers[HEADER_LENGTH];
  const { request: req, inputs } = decodeInferRequest(body, Array.isArray(header) ? header[0] : header);
  const { values, count } = checkInput(deployment, inputs);
  for (const o of req.outputs ?? []) {
    if (o.name !== OUTPUT_NAME) throw bad(`unknown output "${o.name}": model "${deployment.id}" has one output, "${OUTPUT_NAME}"`);
    const b = o.parameters?.binary_data;
    if (b !== undefined && typeof b !== 'boolean') throw bad(`outputs "${o.name}": parameters.binary_data must be true or false`);
  }
  const all = req.parameters?.binary_data_output;
  if (all !== undefined && typeof all !== 'boolean') throw bad('parameters.binary_data_output must be true or false');
  return { values, count, request: req };
}

/** The one input: its name, FP32, shape [batch, C, H, W], batch within limits, finite values in range. */
function checkInput(deployment: Deployment, inputs: Tensor[]): { values: Float32Array; count: number } {
  const expected = deployment.model.inputShape;
  const wanted = `[-1, ${expected.join(', ')}]`;
  if (inputs.length !== 1) throw bad(`model "${deployment.id}" has one input, "${INPUT_NAME}"; the request has ${inputs.length}`);
  const [t] = inputs;
  if (t.name !== INPUT_NAME) throw bad(`unknown input "${t.name}": model "${deployment.id}" has one input, "${INPUT_NAME}"`);
  if (t.datatype !== 'FP32') throw bad(`input "${INPUT_NAME}": datatype must be FP32, got ${t.datatype}`);
  if (t.shape.length !== expected.length + 1 || expected.some((d, i) => t.shape[i + 1] !== d)) {
    throw bad(`input "${INPUT_NAME}": shape [${t.shape}] must be ${wanted}`);
  }
  const count = t.shape[0];
  if (count === 0) throw bad(`input "${INPUT_NAME}": empty batch (shape [${t.shape}])`);
  if (count > deployment.maxBatch) throw bad(`input "${INPUT_NAME}": batch of ${count} exceeds this model's maximum of ${deployment.maxBatch}`);
  const values = t.data as Float32Array;
  const [lo, hi] = deployment.spec.inputRange === 'any-finite' ? [-Number.MAX_VALUE, Number.MAX_VALUE] : deployment.model.model.entry.input.range;
  const size = deployment.model.inputSize;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) continue;
    const where = `input "${INPUT_NAME}" item ${Math.floor(i / size)}, element ${i % size}`;
    throw bad(Number.isFinite(v) ? `${where} is ${v}, outside the model's range [${lo}, ${hi}]` : `${where} is ${v}: values must be finite`);
  }
  return { values, count };
}

function errorHandler(this: FastifyInstance, err: Error & { statusCode?: number }, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.message });
  if (err instanceof OipFormatError) return reply.code(400).send({ error: err.message });
  const status = err.statusCode ?? 500;
  // Fastify's own 4xx (body too large, …).
  if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
  request.log.error({ err }, 'request failed');
  return reply.code(500).send({ error: 'internal server error (logged with the request id)' });
}
