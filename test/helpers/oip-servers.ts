// Test stand-ins for what sits in front of or beside rs-arena in a real deployment, all on loopback:
// - `gateway`: a reverse proxy that mounts a server under a path prefix, with its own auth header
//   (as an API gateway or ingress would), and that can rate-limit chosen requests with 429 + Retry-After;
// - `tritonLike`: an Open Inference Protocol server in the manner of Triton serving a shipped ONNX model
//   undefended: metadata with a `[-1, 1, 28, 28]` FP32 input and the raw class scores as FP32 `[-1, 10]`.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { HEADER_LENGTH, OipFormatError, decodeInferRequest, encodeInferResponse, wantsBinary } from '@rs-arena/shared/oip';
import { OnnxModel } from '../../server/src/model.js';
import { TEST_MODEL_OPTIONS } from './onnx-options.js';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export interface GatewayOptions {
  /** The upstream base URL. */
  upstream: string;
  prefix: string;
  /** Requests must carry `x-api-key: <apiKey>`; the gateway then sends `authorization: Bearer <bearer>` upstream. */
  apiKey?: string;
  bearer?: string;
  /** Answer 429 with this Retry-After (seconds) to the POSTs whose 1-based index is listed. */
  rateLimit?: { requests: number[]; retryAfter: string };
}

export async function gateway(o: GatewayOptions): Promise<Listening & { posts: () => number; rateLimited: () => number }> {
  let posts = 0;
  let limited = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (url !== o.prefix && !url.startsWith(o.prefix + '/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${url} (the gateway serves ${o.prefix}/…)` }));
      return;
    }
    if (o.apiKey !== undefined && req.headers['x-api-key'] !== o.apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'gateway: missing or wrong x-api-key' }));
      return;
    }
    if (req.method === 'POST') {
      posts++;
      if (o.rateLimit?.requests.includes(posts)) {
        limited++;
        req.resume();
        res.writeHead(429, { 'retry-after': o.rateLimit.retryAfter, 'content-type': 'application/json' }).end(JSON.stringify({ error: 'gateway: slow down' }));
        return;
      }
    }
    const headers = { ...req.headers };
    delete headers['x-api-key'];
    delete headers.host;
    if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
    const up = new URL(o.upstream);
    const forward = httpRequest({ hostname: up.hostname, port: up.port, method: req.method, path: url.slice(o.prefix.length) || '/', headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    forward.on('error', (err) => res.writeHead(502).end(JSON.stringify({ error: `gateway: ${err.message}` })));
    req.pipe(forward);
  });
  const base = await listen(server);
  return { url: base + o.prefix, close: () => closeServer(server), posts: () => posts, rateLimited: () => limited };
}

/** A Triton-like Open Inference Protocol server: one shipped model, undefended, answering class scores. */
export async function tritonLike(modelId = 'fmnist-cnn', name = 'fmnist'): Promise<Listening & { inferences: () => number }> {
  const catalog = loadCatalog();
  const model = await OnnxModel.load(resolveModel(catalog, findModel(catalog, modelId)!), TEST_MODEL_OPTIONS);
  let inferences = 0;
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const metadata = {
    name,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, ...model.inputShape] }],
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, model.classes] }],
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').replace(/\/versions\/1(?=\/|$)/, '');
    try {
      if (req.method === 'GET' && path === '/v2') return json(res, 200, { name: 'triton', version: '2.50.0', extensions: ['binary_tensor_data'] });
      if (req.method === 'GET' && path === '/v2/health/ready') return json(res, 200, {});
      if (req.method === 'GET' && path === `/v2/models/${name}`) return json(res, 200, metadata);
      if (req.method === 'POST' && path === `/v2/models/${name}/infer`) {
        const { request, inputs } = decodeInferRequest(Buffer.concat(chunks), req.headers[HEADER_LENGTH] as string | undefined);
        const x = inputs.find((i) => i.name === 'x');
        if (x?.datatype !== 'FP32' || x.shape.length !== 4) return json(res, 400, { error: 'expected FP32 input "x" [-1, 1, 28, 28]' });
        const count = x.shape[0];
        inferences += count;
        const logits = await model.logits(x.data as Float32Array, count);
        const encoded = encodeInferResponse({ model_name: name, model_version: '1', ...(request.id ? { id: request.id } : {}) }, [
          { name: 'logits', datatype: 'FP32', shape: [count, model.classes], data: logits, binary: wantsBinary(request, 'logits') },
        ]);
        res.writeHead(200, encoded.headers).end(encoded.body);
        return;
      }
      json(res, 404, { error: `no route ${req.method} ${req.url}` });
    } catch (err) {
      json(res, err instanceof OipFormatError ? 400 : 500, { error: (err as Error).message });
    }
  });
  const url = await listen(server);
  return {
    url,
    inferences: () => inferences,
    close: async () => {
      await closeServer(server);
      await model.close();
    },
  };
}
