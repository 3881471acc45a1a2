// The remote endpoint as a top-1 label oracle, over the client's one HTTP stack (endpoint.ts) and
// whichever protocol the table holds (protocols/). Here, once for every protocol: the inputs are
// encoded (encoding.ts: float32, JSON numbers, PNG or JPEG; the image encodings snap the batch in
// place to the point the endpoint sees), a batch larger than the protocol's requests take is split,
// at most `parallel` parts in flight, and a refusal half-way is counted exactly: the parts the
// server answered were charged, and BudgetExhausted.charged says how many inputs they held, so the
// counting oracle un-books the rest only (a part is never counted twice, nor a refused one once). A
// part a detector refused (403, QueryRefused) was charged too: QueryRefused.charged counts it.
import type { DeploymentInfo, PredictResponse, UsageResponse as UsageResponseType } from '@rs-arena/shared/api';
import { UsageResponse } from '@rs-arena/shared/api';
import { type Encoding, encode, isImageEncoding, onGrid } from './encoding.js';
import { Endpoint, type EndpointOptions } from './endpoint.js';
import { BudgetExhausted, BudgetRefused, QueryRefused, type Oracle } from './oracle.js';
import { PROTOCOLS, type ProtocolArgs, type ProtocolName, ProtocolError, type Session } from './protocols/index.js';
import type { V1Session } from './protocols/v1.js';
import { parseResponse } from './response.js';

export { HttpError, IDEMPOTENCY_HEADER, newIdempotencyKey, withNetworkRetries } from './endpoint.js';

export interface HttpOracleOptions extends Partial<Omit<ProtocolArgs, 'model' | 'hasKey'>> {
  endpoint: string;
  key?: string;
  deployment: string;
  /** Default v1 (rs-arena). */
  protocol?: ProtocolName;
  headers?: Record<string, string>;
  retries?: number;
  /** First back-off delay in ms, doubled per retry. */
  backoffMs?: number;
  connections?: number;
}

export class HttpOracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  readonly encoding: Encoding;
  readonly gridStep: number | undefined;
  private readonly inputSize: number;

  private constructor(
    readonly endpoint: Endpoint,
    readonly protocol: ProtocolName,
    readonly session: Session,
    /** Parts of a split batch in flight at once. */
    private readonly parallel: number,
  ) {
    this.inputShape = session.inputShape;
    this.range = session.range;
    this.encoding = session.encoding;
    this.gridStep = isImageEncoding(session.encoding) ? (session.range[1] - session.range[0]) / 255 : undefined;
    this.inputSize = session.inputShape.reduce((a, b) => a * b, 1);
  }

  /** Connects and reads the model's metadata (shape, range, classes) as its protocol gives it. */
  static async connect(o: HttpOracleOptions): Promise<HttpOracle> {
    const endpoint = new Endpoint({
      url: o.endpoint,
      key: o.key,
      headers: o.headers,
      connections: o.connections,
      retries: o.retries,
      backoffMs: o.backoffMs,
    } satisfies EndpointOptions);
    const protocol = o.protocol ?? 'v1';
    return HttpOracle.open(
      endpoint,
      protocol,
      { ...o, model: o.deployment, hasKey: Boolean(o.key), encoding: o.encoding ?? { name: PROTOCOLS[protocol].encodings[0] } },
      o.connections ?? 8,
    );
  }

  /** The oracle over an endpoint already made (closed with the oracle, or on failure to connect). */
  static async open(endpoint: Endpoint, protocol: ProtocolName, args: ProtocolArgs, parallel = 8): Promise<HttpOracle> {
    try {
      const session = await PROTOCOLS[protocol].connect(endpoint, args);
      // A part that is already a batch goes one at a time (what is answered before a refusal is
      // then always a prefix); one-input requests (images, JSON APIs) go `parallel` at a time.
      return new HttpOracle(endpoint, protocol, session, session.maxBatch > 1 ? 1 : Math.max(1, parallel));
    } catch (err) {
      await endpoint.close();
      throw err;
    }
  }

  /** rs-arena's deployment metadata (v1 only). */
  get info(): DeploymentInfo {
    const s = this.session as Partial<V1Session>;
    if (!s.info) throw new Error(`--protocol ${this.protocol} has no rs-arena deployment metadata`);
    return s.info;
  }

  /** What an rs-arena server reported after the last call (v1): queries used, limit, remaining. */
  get lastUsage(): PredictResponse['usage'] | undefined {
    return (this.session as Partial<V1Session>).lastUsage;
  }

  /** The point the endpoint sees when asked `x` (a copy): `x` for float encodings, its decoded image otherwise. */
  onGrid(x: Float32Array): Promise<Float32Array> {
    return onGrid(this.encoding, x, this.inputShape, this.range);
  }

  /** Labels of `count` inputs; for image encodings `batch` is overwritten with what was sent. */
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const encoded = await encode(this.encoding, batch, count, this.inputShape, this.range);
    const { maxBatch } = this.session;
    const out = new Int32Array(count);
    const starts: number[] = [];
    for (let start = 0; start < count; start += maxBatch) starts.push(start);
    let answered = 0;
    // Inputs of parts a detector refused: charged by the server, unanswered.
    let refused = 0;
    let failure: unknown;
    const sendPart = async (start: number) => {
      const k = Math.min(maxBatch, count - start);
      const part = { values: encoded.values.subarray(start * this.inputSize, (start + k) * this.inputSize), images: encoded.images.slice(start, start + k) };
      const req = this.session.request(part, k);
      const answer = await this.endpoint.call('POST', req.path, req.body, req.headers);
      // Answered: charged by the server, whatever the labels turn out to be.
      answered += k;
      const labels = this.session.labels(answer, k);
      if (labels.length !== k) throw new ProtocolError(`the endpoint answered ${labels.length} labels for ${k} inputs`);
      out.set(labels, start);
    };
    // A window of parts in flight; after a failure no new part starts, and those in flight settle.
    const queue = starts.slice();
    const lane = async () => {
      for (let s = queue.shift(); s !== undefined && failure === undefined; s = queue.shift()) {
        try {
          await sendPart(s);
        } catch (err) {
          if (err instanceof QueryRefused) refused += Math.min(maxBatch, count - s);
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.parallel, starts.length) }, lane));
    if (failure !== undefined) {
      // Charged: the parts answered and the parts a detector refused (a refusal is charged).
      const charged = answered + refused;
      if (failure instanceof QueryRefused) throw new QueryRefused(failure.message, failure.code, charged, refused);
      if (failure instanceof BudgetRefused) throw new BudgetRefused(failure.message, charged);
      if (failure instanceof BudgetExhausted) throw new BudgetExhausted(failure.message, charged);
      throw failure;
    }
    return out;
  }

  /** The caller's usage as an rs-arena server counts it (v1 and v2 keys alike). */
  async usage(): Promise<UsageResponseType> {
    const res = await this.endpoint.call('GET', '/v1/usage');
    return parseResponse(UsageResponse, res.body.toString('utf8'), `GET ${this.endpoint.prefix}/v1/usage`);
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}
