// rs-arena's own API: GET /v1/deployments/{id} (shape, range, class names, disclosed smoothing),
// POST /v1/deployments/{id}/predict with float32 bodies (a batch per request) or one PNG/JPEG image,
// answered `{labels, usage}`. Every answer is checked against the API's schemas (shared/src/api.ts).
import { DeploymentInfo, PredictResponse } from '@rs-arena/shared/api';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { parseResponse } from '../response.js';
import type { Endpoint } from '../endpoint.js';
import { type Protocol, ProtocolError, type Session, requireEncoding } from './protocol.js';

export interface V1Session extends Session {
  readonly info: DeploymentInfo;
  /** What the server reported after the last call: queries used, limit, remaining. */
  lastUsage: PredictResponse['usage'] | undefined;
}

export const v1: Protocol = {
  name: 'v1',
  summary: 'rs-arena (GET /v1/deployments/{id}, POST …/predict); float32, png or jpeg',
  encodings: ['float32', 'png', 'jpeg'],
  async connect(endpoint: Endpoint, args): Promise<V1Session> {
    const encoding = requireEncoding(args, v1);
    const path = `/v1/deployments/${encodeURIComponent(args.model)}`;
    const info = parseResponse(DeploymentInfo, (await endpoint.call('GET', path)).body.toString('utf8'), `GET ${endpoint.prefix}${path}`);
    if (info.inputShape.length !== 3) throw new ProtocolError(`deployment "${args.model}" takes inputs of shape [${info.inputShape}], not [C, H, W]`);
    const [c, h, w] = info.inputShape;
    const image = encoding.name !== 'float32';
    const smoothing = info.smoothing ? `σ=${info.smoothing.sigma}, n=${info.smoothing.n}` : 'smoothing undisclosed';
    const session: V1Session = {
      info,
      lastUsage: undefined,
      inputShape: [c, h, w],
      range: info.range,
      maxBatch: image ? 1 : info.maxBatch,
      encoding,
      dataset: info.dataset,
      banner: `${info.id} (${info.model ?? 'model undisclosed'}, ${smoothing})`,
      labelSource: 'label',
      request: (batch, count) =>
        image
          ? { path: `${path}/predict`, body: batch.images[0], headers: { 'content-type': `image/${encoding.name}` } }
          : {
              path: `${path}/predict`,
              body: float32ToBytes(batch.values.subarray(0, count * c * h * w)),
              headers: { 'content-type': 'application/octet-stream' },
            },
      labels(answer, count) {
        const res = parseResponse(PredictResponse, answer.body.toString('utf8'), `POST ${endpoint.prefix}${path}/predict`);
        if (res.labels.length !== count) throw new ProtocolError(`server answered ${res.labels.length} labels for ${count} inputs`);
        session.lastUsage = res.usage;
        return Int32Array.from(res.labels);
      },
    };
    return session;
  },
};
