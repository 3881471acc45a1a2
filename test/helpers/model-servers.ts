// Test stand-ins for the model servers a red team meets, each serving a shipped ONNX model
// undefended on loopback, counting every inference and remembering every input it decoded (so a
// test can check that a reported adversarial is exactly an image the server saw):
// - `tfServingLike`: TensorFlow Serving's REST API (status, metadata with an NHWC signature,
//   POST /v1/models/{name}[/versions/1]:predict with {"instances"}: nested NHWC arrays or {"b64"}),
//   answering {"predictions": [[logits…]]};
// - `torchServeLike`: TorchServe's inference API (GET /ping, POST /predictions/{name} with the
//   image as the body), answering the image classifier handler's top-5 {"class name": probability};
// - `productJsonLike`: a product's API, POST /api/classify {"image": "<base64 PNG/JPEG>"} →
//   {"label": "<class name>", "score": p}, behind an `x-api-key` header.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { imageToTensor } from '@rs-arena/shared/image';
import { OnnxModel } from '../../server/src/model.js';
import { TEST_MODEL_OPTIONS } from './onnx-options.js';

export interface ModelServer {
  url: string;
  /** Inputs the model was run on. */
  inferences: () => number;
  /** Whether the server decoded exactly these values (float32, bit for bit) for some request. */
  saw: (x: Float32Array) => boolean;
  classNames: string[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, body: Buffer, reply: (status: number, body: unknown) => void) => Promise<void>;

const digest = (x: Float32Array) =>
  createHash('sha256')
    .update(Buffer.from(x.buffer, x.byteOffset, x.byteLength))
    .digest('hex');

async function serve(
  modelId: string,
  make: (m: { model: OnnxModel; names: string[]; run: (x: Float32Array, count: number) => Promise<Float32Array> }) => Handler,
): Promise<ModelServer> {
  const catalog = loadCatalog();
  const entry = findModel(catalog, modelId)!;
  const model = await OnnxModel.load(resolveModel(catalog, entry), TEST_MODEL_OPTIONS);
  const names = (entry as { classNames?: string[] }).classNames ?? Array.from({ length: model.classes }, (_, i) => String(i));
  let inferences = 0;
  const seen = new Set<string>();
  const run = async (x: Float32Array, count: number) => {
    inferences += count;
    for (let i = 0; i < count; i++) seen.add(digest(x.subarray(i * model.inputSize, (i + 1) * model.inputSize)));
    return model.logits(x, count);
  };
  const handler = make({ model, names, run });
  const server: Server = createServer(async (req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    try {
      await handler(req, Buffer.concat(chunks), reply);
    } catch (err) {
      reply(400, { error: (err as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inferences: () => inferences,
    saw: (x) => seen.has(digest(x)),
    classNames: names,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await model.close();
    },
  };
}

const softmax = (logits: Float32Array): number[] => {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** TensorFlow Serving's REST API for one model named `name` (version 1). */
export function tfServingLike(modelId = 'fmnist-cnn', name = 'fmnist'): Promise<ModelServer> {
  return serve(modelId, ({ model, run }) => {
    const [c, h, w] = model.inputShape;
    const size = c * h * w;
    return async (req, body, reply) => {
      const path = (req.url ?? '').replace(/\/versions\/1(?=[:/]|$)/, '');
      if (req.method === 'GET' && path === `/v1/models/${name}`)
        return reply(200, { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
      if (req.method === 'GET' && path === `/v1/models/${name}/metadata`) {
        const dim = [-1, h, w, c].map((size) => ({ size: String(size), name: '' }));
        return reply(200, {
          model_spec: { name, version: '1' },
          metadata: {
            signature_def: {
              signature_def: {
                serving_default: {
                  inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim, unknown_rank: false }, name: 'serving_default_x:0' } },
                  outputs: {
                    logits: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1' }, { size: String(model.classes) }] }, name: 'StatefulPartitionedCall:0' },
                  },
                  method_name: 'tensorflow/serving/predict',
                },
              },
            },
          },
        });
      }
      if (req.method === 'POST' && path === `/v1/models/${name}:predict`) {
        const { instances } = JSON.parse(body.toString('utf8')) as { instances?: unknown[] };
        if (!Array.isArray(instances) || instances.length === 0) return reply(400, { error: 'JSON Value: missing "instances"' });
        const x = new Float32Array(instances.length * size);
        for (let i = 0; i < instances.length; i++) {
          const inst = instances[i] as { b64?: string } | number[][][];
          if (!Array.isArray(inst) && typeof inst?.b64 === 'string') {
            x.set(await imageToTensor(Buffer.from(inst.b64, 'base64'), { shape: model.inputShape, resize: 'fill' }), i * size);
            continue;
          }
          // NHWC rows → CHW.
          const rows = inst as number[][][];
          if (rows.length !== h || rows.some((r) => r.length !== w || r.some((px) => px.length !== c)))
            return reply(400, { error: `instance ${i}: expected shape [${h}, ${w}, ${c}]` });
          for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) x[i * size + ch * h * w + y * w + xx] = rows[y][xx][ch];
        }
        const logits = await run(x, instances.length);
        return reply(200, {
          predictions: Array.from({ length: instances.length }, (_, i) => Array.from(logits.subarray(i * model.classes, (i + 1) * model.classes))),
        });
      }
      reply(404, { error: `Could not find any resource for ${req.method} ${req.url}` });
    };
  });
}

/** TorchServe's inference API for one model named `name`: the top-5 classes by name. */
export function torchServeLike(modelId = 'fmnist-cnn', name = 'fmnist'): Promise<ModelServer> {
  return serve(modelId, ({ model, names, run }) => async (req, body, reply) => {
    const path = (req.url ?? '').replace(/\/1\.0$/, '');
    if (req.method === 'GET' && path === '/ping') return reply(200, { status: 'Healthy' });
    if (req.method === 'POST' && path === `/predictions/${name}`) {
      const x = await imageToTensor(body, { shape: model.inputShape, resize: 'fill' });
      const p = softmax(await run(x, 1));
      const top = p
        .map((v, i) => [names[i], v] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5);
      return reply(200, Object.fromEntries(top));
    }
    reply(404, { code: 404, type: 'ModelNotFoundException', message: `Model not found: ${req.url}` });
  });
}

/** A product's JSON API: {"image": base64} → {"label", "score"}, behind x-api-key. */
export function productJsonLike(apiKey: string, modelId = 'fmnist-cnn'): Promise<ModelServer> {
  return serve(modelId, ({ model, names, run }) => async (req, body, reply) => {
    if (req.headers['x-api-key'] !== apiKey) return reply(401, { message: 'missing or wrong API key' });
    if (req.method !== 'POST' || req.url !== '/api/classify') return reply(404, { message: `no route ${req.method} ${req.url}` });
    const { image } = JSON.parse(body.toString('utf8')) as { image?: string };
    if (typeof image !== 'string') return reply(422, { message: 'field "image" (base64 PNG or JPEG) is required' });
    const x = await imageToTensor(Buffer.from(image, 'base64'), { shape: model.inputShape, resize: 'fill' });
    const p = softmax(await run(x, 1));
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    reply(200, { label: names[best].toLowerCase(), score: Number(p[best].toFixed(4)) });
  });
}
