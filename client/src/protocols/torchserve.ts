// TorchServe's inference API: POST /predictions/{model}[/{version}] with the image file as the body
// (one input per request; TorchServe batches on its side), answered with JSON: the default image
// classifier handler's {"class name": probability, …} (top-k), a label, or class scores. Named
// classes map to indices by --classes FILE (TorchServe's index_to_name.json, or a JSON array);
// numeric names are indices. The inference API tells no input shape: --input-shape is required.
import type { Endpoint } from '../endpoint.js';
import { type Protocol, ProtocolError, type Session, answerJson, argmax, classIndex, requireEncoding, requireShape } from './protocol.js';

export const torchserve: Protocol = {
  name: 'torchserve',
  summary: 'TorchServe inference API (POST /predictions/{model}[/{version}], the image as the body, {class: probability} back); png or jpeg',
  encodings: ['png', 'jpeg'],
  async connect(endpoint: Endpoint, args): Promise<Session> {
    const encoding = requireEncoding(args, torchserve);
    const shape = requireShape(args, 'torchserve');
    // Reachable and TorchServe-like: its health check (does not touch the model, costs nothing).
    await endpoint.json('/ping');
    const path = `/predictions/${encodeURIComponent(args.model)}${args.version === undefined ? '' : `/${encodeURIComponent(args.version)}`}`;
    const what = `POST ${endpoint.prefix}${path}`;
    return {
      inputShape: shape,
      range: args.range ?? [0, 1],
      maxBatch: 1,
      encoding,
      dataset: shape[1] >= 100 ? 'imagenet' : 'other',
      banner: `TorchServe model ${args.model} (${encoding.name} images)`,
      labelSource: 'top-1 class of the answer',
      request: (batch) => ({ path, body: batch.images[0], headers: { 'content-type': `image/${encoding.name}` } }),
      labels(answer) {
        let body = answerJson(answer, what);
        if (Array.isArray(body) && body.length === 1 && typeof body[0] === 'object') body = body[0];
        return Int32Array.of(topClass(body, args.classes, what));
      },
    };
  },
};

/** {name: probability} → the name of the largest; a label; a class name; or scores. */
export function topClass(body: unknown, classes: readonly string[] | undefined, what: string): number {
  if (typeof body === 'number' && Number.isInteger(body)) return body;
  if (typeof body === 'string') return classIndex(body, classes, what);
  if (Array.isArray(body) && body.length > 1 && body.every((v) => typeof v === 'number')) return argmax(body as number[]);
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const entries = Object.entries(body as Record<string, unknown>).filter(([, v]) => typeof v === 'number') as [string, number][];
    if (entries.length > 0) {
      const best = entries[argmax(entries.map(([, v]) => v))];
      return classIndex(best[0], classes, what);
    }
  }
  throw new ProtocolError(`${what}: the answer is neither {class: probability}, a label nor scores: ${JSON.stringify(body).slice(0, 120)}`);
}
