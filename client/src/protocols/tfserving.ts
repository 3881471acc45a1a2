// TensorFlow Serving's REST API: POST /v1/models/{name}[/versions/{v}]:predict with
// {"instances": [...]} (row format: one nested array per input, NHWC as TensorFlow lays images out
// unless --layout nchw; or {"b64": "<image>"} per input for PNG/JPEG), answered {"predictions":
// [...]}: per input a label (an integer) or class scores (argmax on the client). The input's shape
// comes from the model's signature (GET …/metadata) or --input-shape.
import type { Endpoint } from '../endpoint.js';
import { HttpError } from '../endpoint.js';
import { type Protocol, ProtocolError, ProtocolUsageError, type Session, answerJson, argmax, nested, requireEncoding } from './protocol.js';

export const tfserving: Protocol = {
  name: 'tfserving',
  summary: 'TensorFlow Serving REST (POST /v1/models/{name}[/versions/{v}]:predict, {"instances"} → {"predictions"}); json, png or jpeg (b64)',
  encodings: ['json', 'png', 'jpeg'],
  async connect(endpoint: Endpoint, args): Promise<Session> {
    const encoding = requireEncoding(args, tfserving);
    const layout = args.layout ?? 'nhwc';
    const base = `/v1/models/${encodeURIComponent(args.model)}${args.version === undefined ? '' : `/versions/${encodeURIComponent(args.version)}`}`;
    let shape = args.inputShape;
    // The model's status answers whether it is served at all (a 404 names an unknown model).
    await endpoint.json(base);
    if (!shape) {
      const meta = await endpoint.json(`${base}/metadata`).catch((err) => {
        if (err instanceof HttpError) return undefined;
        throw err;
      });
      shape = signatureShape(meta, args.inputName, layout);
      if (!shape) throw new ProtocolUsageError(`model "${args.model}": its metadata gives no [batch, H, W, C] input shape; give it with --input-shape C,H,W`);
    }
    const [c, h, w] = shape;
    const size = c * h * w;
    const path = `${base}:predict`;
    const image = encoding.name !== 'json';
    const wrap = (v: unknown) => (args.inputName ? { [args.inputName]: v } : v);
    return {
      inputShape: shape,
      range: args.range ?? [0, 1],
      maxBatch: args.maxBatch ?? 64,
      encoding,
      dataset: h >= 100 ? 'imagenet' : 'other',
      banner: `TensorFlow Serving model ${args.model} (${image ? `${encoding.name} images as b64` : `${layout} JSON instances`})`,
      labelSource: 'label',
      request(batch, count) {
        const instances = Array.from({ length: count }, (_, i) =>
          wrap(image ? { b64: batch.images[i].toString('base64') } : nested(batch.values.subarray(i * size, (i + 1) * size), shape, layout)),
        );
        return { path, body: Buffer.from(JSON.stringify({ instances })), headers: { 'content-type': 'application/json' } };
      },
      labels(answer, count) {
        const what = `POST ${endpoint.prefix}${path}`;
        const body = answerJson(answer, what) as { predictions?: unknown };
        const predictions = body?.predictions;
        if (!Array.isArray(predictions)) throw new ProtocolError(`${what}: the answer has no "predictions" array`);
        if (predictions.length !== count) throw new ProtocolError(`${what}: ${predictions.length} predictions for ${count} instances`);
        return Int32Array.from(predictions, (p) =>
          topOne(args.outputName && p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>)[args.outputName] : p, what),
        );
      },
    };
  },
};

/** A prediction: an integer label, [label], or class scores. */
function topOne(p: unknown, what: string): number {
  if (typeof p === 'number' && Number.isInteger(p)) return p;
  if (Array.isArray(p) && p.every((v) => typeof v === 'number')) {
    if (p.length === 1 && Number.isInteger(p[0])) return p[0] as number;
    if (p.length > 1) return argmax(p as number[]);
  }
  throw new ProtocolError(
    `${what}: a prediction is neither a label nor class scores: ${JSON.stringify(p).slice(0, 120)} (name the output with --output-name when there are several)`,
  );
}

/** serving_default's input: [-1, H, W, C] (nhwc) or [-1, C, H, W] (nchw) → [C, H, W]. */
function signatureShape(meta: unknown, inputName: string | undefined, layout: 'nhwc' | 'nchw'): [number, number, number] | undefined {
  const sig = (
    meta as {
      metadata?: { signature_def?: { signature_def?: Record<string, { inputs?: Record<string, { tensor_shape?: { dim?: { size: string | number }[] } }> }> } };
    }
  )?.metadata?.signature_def?.signature_def?.serving_default;
  const inputs = Object.entries(sig?.inputs ?? {});
  const input = inputName ? inputs.find(([k]) => k === inputName) : inputs.length === 1 ? inputs[0] : undefined;
  const dims = input?.[1].tensor_shape?.dim?.map((d) => Number(d.size));
  if (dims?.length !== 4 || dims.slice(1).some((d) => !(d > 0))) return undefined;
  return layout === 'nhwc' ? [dims[3], dims[1], dims[2]] : [dims[1], dims[2], dims[3]];
}
