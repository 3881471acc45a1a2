// A base model f served elsewhere (Triton, KServe, another rs-arena's /v2: GPUs, many replicas) over
// the Open Inference Protocol, so that rs-arena stays the defended front: noise, votes, budgets and
// counting stay here, and only the noisy copies travel, as binary infer requests (JSON when the
// server lacks the binary extension). A batch is split to the remote's maximum batch and the parts
// are sent concurrently over a keep-alive undici pool. A remote that answers class scores is reduced
// to top-1 labels here (ties to the lowest index, as model.ts does). The remote receives pixel-space
// inputs: any normalization belongs to the remote model.
import { Pool } from 'undici';
import type { RemoteModelSpec } from '@rs-arena/shared/api';
import type { ModelEntry } from '@rs-arena/shared/manifest';
import type { ResolvedModel } from '@rs-arena/shared/catalog';
import { HEADER_LENGTH, ModelMetadata, ServerMetadata, decodeInferResponse, encodeInferRequest, type Datatype } from '@rs-arena/shared/oip';
import { softmaxRows } from './model.js';
import { HttpError } from './errors.js';
import type { BaseClassifier } from './smoothing.js';
import { retry } from '@rs-arena/shared/retry';

const LABEL_TYPES: Datatype[] = ['INT64', 'INT32', 'INT16', 'INT8', 'UINT64', 'UINT32', 'UINT16', 'UINT8'];

export class RemoteModel implements BaseClassifier {
  readonly id: string;
  readonly inputShape: readonly [number, number, number];
  readonly inputSize: number;
  readonly classes: number;
  /** The manifest's description of the model (shape, range, classes); `path` is the remote URL. */
  readonly model: ResolvedModel;
  /** predict() encodes its input before it returns: smoothing may draw the next copies meanwhile. */
  readonly copiesInput = true;

  private constructor(
    entry: ModelEntry,
    classNames: string[],
    private readonly spec: RemoteModelSpec,
    private readonly pool: Pool,
    private readonly prefix: string,
    private readonly io: { input: string; output: string; scores: boolean; binary: boolean },
  ) {
    this.id = entry.id;
    this.inputShape = entry.input.shape;
    this.inputSize = entry.input.shape.reduce((a, b) => a * b, 1);
    this.classes = entry.output.classes;
    this.model = { entry, path: spec.url, status: 'ok', classNames, inputSize: this.inputSize };
  }

  /** Connects, checks the remote's metadata against the manifest entry, and makes one test forward pass. */
  static async load(entry: ModelEntry, classNames: string[], spec: RemoteModelSpec): Promise<RemoteModel> {
    const url = new URL(spec.url);
    const prefix = url.pathname.replace(/\/+$/, '');
    const pool = new Pool(url.origin, { connections: spec.concurrency, keepAliveTimeout: 30_000, headersTimeout: spec.timeoutMs, bodyTimeout: spec.timeoutMs });
    const where = `remote model "${spec.model}" at ${spec.url}`;
    try {
      const get = async (path: string) => {
        const res = await pool.request({ method: 'GET', path: prefix + path, headers: spec.headers });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`${where}: GET ${path} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        return JSON.parse(text) as unknown;
      };
      const server = ServerMetadata.safeParse(await get('/v2').catch(() => ({})));
      const meta = ModelMetadata.safeParse(await get(modelPath(spec)));
      if (!meta.success) throw new Error(`${where}: the model metadata does not follow the Open Inference Protocol`);
      const input = meta.data.inputs.find((t) => t.datatype === 'FP32' && t.shape.length === 4);
      if (!input) throw new Error(`${where}: no FP32 input [-1, C, H, W] among ${JSON.stringify(meta.data.inputs)}`);
      if (input.shape.slice(1).some((d, i) => d !== entry.input.shape[i])) {
        throw new Error(`${where}: input "${input.name}" has shape [${input.shape}], the manifest's ${entry.id} expects [-1, ${entry.input.shape.join(', ')}]`);
      }
      const width = (s: number[]) => s.slice(1).reduce((a, b) => a * b, 1);
      const output =
        meta.data.outputs.find((t) => LABEL_TYPES.includes(t.datatype) && width(t.shape) === 1) ??
        meta.data.outputs.find((t) => (t.datatype === 'FP32' || t.datatype === 'FP64') && width(t.shape) === entry.output.classes);
      if (!output)
        throw new Error(`${where}: no output that is a label (integer [-1, 1]) or ${entry.output.classes} class scores (FP32 [-1, ${entry.output.classes}])`);
      const binary = server.success && server.data.extensions.includes('binary_tensor_data');
      const model = new RemoteModel(entry, classNames, spec, pool, prefix, { input: input.name, output: output.name, scores: width(output.shape) > 1, binary });
      await model.predict(new Float32Array(model.inputSize), 1);
      return model;
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  /** Top-1 labels of `count` inputs: parts of at most maxBatch, all in flight at once (the pool caps connections). */
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const out = new Int32Array(count);
    const parts: Promise<void>[] = [];
    for (let start = 0; start < count; start += this.spec.maxBatch) {
      const k = Math.min(this.spec.maxBatch, count - start);
      // Encoded now: the caller may reuse `batch` (the noise scratch buffer) once we await.
      const body = this.encode(batch.subarray(start * this.inputSize, (start + k) * this.inputSize), k);
      parts.push(this.send(body, k).then((data) => out.set(this.labels(data, k), start)));
    }
    await Promise.all(parts);
    return out;
  }

  /**
   * Class probabilities, where the remote answers class scores (confidence-gated noise needs them):
   * scores that are already probabilities (non-negative rows summing to 1) are kept, others are
   * taken as logits and put through a softmax. A remote answering labels has none (undefined).
   */
  get probabilities(): ((batch: Float32Array, count: number) => Promise<Float32Array>) | undefined {
    return this.io.scores ? (batch, count) => this.scores(batch, count) : undefined;
  }

  private async scores(batch: Float32Array, count: number): Promise<Float32Array> {
    const out = new Float32Array(count * this.classes);
    const parts: Promise<void>[] = [];
    for (let start = 0; start < count; start += this.spec.maxBatch) {
      const k = Math.min(this.spec.maxBatch, count - start);
      const body = this.encode(batch.subarray(start * this.inputSize, (start + k) * this.inputSize), k);
      parts.push(this.send(body, k).then((data) => out.set(asProbabilities(Float32Array.from(data, Number), this.classes), start * this.classes)));
    }
    await Promise.all(parts);
    return out;
  }

  private encode(values: Float32Array, count: number) {
    const { input, output, binary } = this.io;
    return encodeInferRequest({ outputs: [{ name: output, ...(binary ? { parameters: { binary_data: true } } : {}) }] }, [
      { name: input, datatype: 'FP32', shape: [count, ...this.inputShape], data: values, binary },
    ]);
  }

  private async send(req: ReturnType<RemoteModel['encode']>, count: number): Promise<ArrayLike<number | bigint>> {
    const path = `${this.prefix}${modelPath(this.spec)}/infer`;
    // Forward passes are pure (the noise is drawn here), so a failed request may be sent again: after
    // a network error or a 503, each a 502 once no retry is left.
    const { status, header, body } = await retry(
      async () => {
        let res;
        try {
          res = await this.pool.request({ method: 'POST', path, headers: { ...this.spec.headers, ...req.headers }, body: req.body });
          const body = Buffer.from(await res.body.arrayBuffer());
          if (res.statusCode === 503) throw new Unavailable(`the base model's server answered HTTP 503`);
          return { status: res.statusCode, header: res.headers[HEADER_LENGTH], body };
        } catch (err) {
          throw err instanceof Unavailable ? err : new Unavailable(`the base model's server did not answer (${(err as Error).message})`);
        }
      },
      { retries: this.spec.retries, baseMs: 50, retryable: (err) => err instanceof Unavailable },
    );
    if (status !== 200) throw new HttpError(502, 'bad_gateway', `the base model's server answered HTTP ${status}`);
    const { outputs } = decodeInferResponse(body, Array.isArray(header) ? header[0] : header);
    const out = outputs.find((o) => o.name === this.io.output);
    if (!out || out.data.length !== count * (this.io.scores ? this.classes : 1)) {
      throw new HttpError(502, 'bad_gateway', `the base model's server answered no "${this.io.output}" of ${count} rows`);
    }
    return out.data;
  }

  private labels(data: ArrayLike<number | bigint>, count: number): Int32Array {
    const labels = new Int32Array(count);
    const k = this.classes;
    for (let r = 0; r < count; r++) {
      let best = 0;
      if (this.io.scores) {
        for (let c = 1; c < k; c++) if (Number(data[r * k + c]) > Number(data[r * k + best])) best = c;
      } else best = Number(data[r]);
      if (!(best >= 0 && best < k)) throw new HttpError(502, 'bad_gateway', `the base model's server answered label ${best}, outside [0, ${k})`);
      labels[r] = best;
    }
    return labels;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Rows of class scores as probabilities: kept if they already are, else a softmax of them (logits). */
function asProbabilities(scores: Float32Array, classes: number): Float32Array {
  for (let r = 0; r < scores.length; r += classes) {
    const row = scores.subarray(r, r + classes);
    const sum = row.reduce((a, b) => a + b, 0);
    if (!(row.every((v) => v >= 0) && Math.abs(sum - 1) < 1e-3)) return softmaxRows(scores, classes);
  }
  return scores;
}

const modelPath = (spec: RemoteModelSpec) =>
  `/v2/models/${encodeURIComponent(spec.model)}${spec.version === undefined ? '' : `/versions/${encodeURIComponent(spec.version)}`}`;

/** The base model's server did not answer, or answered 503: worth another attempt, a 502 after the last. */
class Unavailable extends HttpError {
  constructor(message: string) {
    super(502, 'bad_gateway', message);
  }
}
