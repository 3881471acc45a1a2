// Any Open Inference Protocol model (KServe v2 / Triton HTTP/REST: rs-arena's own /v2, Triton,
// KServe, OpenVINO Model Server, …) as a top-1 label oracle. Input name, shape and output come from
// the model's metadata (or flags); queries go as binary tensor data when the server lists the
// `binary_tensor_data` extension (4 bytes per value instead of ~10 of JSON text), as JSON otherwise.
// A model that answers class scores (FP32 [-1, K]) is reduced to its top-1 label here, on the
// client, ties to the lowest index: attacks see labels only, and `reduction` says which happened.
import { ModelMetadata, decodeInferResponse, encodeInferRequest, elementCount, HEADER_LENGTH, type Datatype } from '@rs-arena/shared/oip';
import { Endpoint, type EndpointOptions } from './endpoint.js';
import type { Oracle } from './oracle.js';

export interface V2OracleOptions extends EndpointOptions {
  model: string;
  version?: string;
  /** [C, H, W] when the metadata does not give it (or to override it). */
  inputShape?: readonly [number, number, number];
  /** Valid input range (the protocol has no field for it; default [0, 1]). */
  range?: readonly [number, number];
  inputName?: string;
  outputName?: string;
  /** Most inputs per request (default 64); larger batches are split and sent concurrently. */
  maxBatch?: number;
  /** Force JSON tensors even when the server supports binary data. */
  json?: boolean;
}

const LABEL_TYPES: Datatype[] = ['INT64', 'INT32', 'INT16', 'INT8', 'UINT64', 'UINT32', 'UINT16', 'UINT8'];
const SCORE_TYPES: Datatype[] = ['FP32', 'FP64'];

export class V2Oracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  /** How answers become labels: the model's own label output, or the argmax of K scores on the client. */
  readonly reduction: 'label' | `argmax of ${number} scores`;
  /** The queries' encoding. */
  readonly encoding: 'binary' | 'json';
  private readonly inputSize: number;
  private readonly path: string;
  private readonly maxBatch: number;

  private constructor(
    readonly endpoint: Endpoint,
    readonly metadata: ModelMetadata,
    private readonly inputName: string,
    private readonly outputName: string,
    shape: readonly [number, number, number],
    reduction: V2Oracle['reduction'],
    options: V2OracleOptions,
    binary: boolean,
  ) {
    this.inputShape = shape;
    this.inputSize = elementCount(shape);
    this.range = options.range ?? [0, 1];
    this.reduction = reduction;
    this.encoding = binary ? 'binary' : 'json';
    this.maxBatch = options.maxBatch ?? 64;
    this.path = modelPath(options.model, options.version) + '/infer';
  }

  /** Reads the server's and the model's metadata and decides input, output and encoding. */
  static async connect(options: V2OracleOptions): Promise<V2Oracle> {
    const endpoint = new Endpoint(options);
    try {
      const server = (await endpoint.json('/v2').catch(() => ({}))) as { extensions?: unknown };
      const binary = !options.json && Array.isArray(server.extensions) && server.extensions.includes('binary_tensor_data');
      const parsed = ModelMetadata.safeParse(await endpoint.json(modelPath(options.model, options.version)));
      if (!parsed.success) throw new Error(`model "${options.model}": the metadata does not follow the Open Inference Protocol: ${parsed.error.issues[0]?.message}`);
      const meta = parsed.data;
      const input = pick(meta.inputs, options.inputName, 'input', options.model);
      const output = pick(meta.outputs, options.outputName, 'output', options.model);
      if (input.datatype !== 'FP32') throw new Error(`model "${options.model}": input "${input.name}" is ${input.datatype}; only FP32 inputs can be attacked`);
      const shape = options.inputShape ?? shapeOf(input.shape, options.model);
      const reduction = reductionOf(output, options.model);
      return new V2Oracle(endpoint, meta, input.name, output.name, shape, reduction, options, binary);
    } catch (err) {
      await endpoint.close();
      throw err;
    }
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const out = new Int32Array(count);
    const parts = [];
    for (let start = 0; start < count; start += this.maxBatch) {
      const k = Math.min(this.maxBatch, count - start);
      parts.push(this.send(batch.subarray(start * this.inputSize, (start + k) * this.inputSize), k).then((labels) => out.set(labels, start)));
    }
    await Promise.all(parts);
    return out;
  }

  private async send(values: Float32Array, count: number): Promise<Int32Array> {
    const binary = this.encoding === 'binary';
    const req = encodeInferRequest({ outputs: [{ name: this.outputName, ...(binary ? { parameters: { binary_data: true } } : {}) }] }, [
      { name: this.inputName, datatype: 'FP32', shape: [count, ...this.inputShape], data: values, binary },
    ]);
    const res = await this.endpoint.call('POST', this.path, req.body, req.headers);
    const header = res.headers[HEADER_LENGTH];
    const { outputs } = decodeInferResponse(res.body, Array.isArray(header) ? header[0] : header);
    const output = outputs.find((o) => o.name === this.outputName);
    if (!output) throw new Error(`model answered without output "${this.outputName}"`);
    return toLabels(output.data, count, this.reduction !== 'label');
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

const modelPath = (model: string, version?: string) =>
  `/v2/models/${encodeURIComponent(model)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}`;

function pick<T extends { name: string }>(tensors: T[], name: string | undefined, what: string, model: string): T {
  if (name !== undefined) {
    const t = tensors.find((x) => x.name === name);
    if (!t) throw new Error(`model "${model}" has no ${what} "${name}" (${what}s: ${tensors.map((x) => x.name).join(', ')})`);
    return t;
  }
  if (tensors.length !== 1) throw new Error(`model "${model}" has ${tensors.length} ${what}s (${tensors.map((x) => x.name).join(', ')}): choose one with --${what}-name`);
  return tensors[0];
}

/** [-1, C, H, W] (or any batch dimension) → [C, H, W]. */
function shapeOf(shape: number[], model: string): [number, number, number] {
  const inner = shape.slice(1);
  if (shape.length !== 4 || inner.some((d) => d < 1)) {
    throw new Error(`model "${model}": input shape [${shape}] is not [batch, C, H, W]; give the input shape with --input-shape C,H,W`);
  }
  return inner as [number, number, number];
}

function reductionOf(output: { name: string; datatype: Datatype; shape: number[] }, model: string): V2Oracle['reduction'] {
  const inner = output.shape.slice(1);
  const width = inner.reduce((a, b) => a * b, 1);
  if (LABEL_TYPES.includes(output.datatype) && width === 1) return 'label';
  if (SCORE_TYPES.includes(output.datatype) && width > 1) return `argmax of ${width} scores`;
  throw new Error(`model "${model}": output "${output.name}" (${output.datatype} [${output.shape}]) is neither a label (integer [-1, 1]) nor class scores (FP32 [-1, K])`);
}

/** One label per row: the value itself, or the argmax of the row's scores. */
function toLabels(data: ArrayLike<number | bigint>, count: number, scores: boolean): Int32Array {
  if (data.length === 0 || data.length % count !== 0) throw new Error(`model answered ${data.length} values for ${count} inputs`);
  const width = data.length / count;
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    if (!scores) {
      if (width !== 1) throw new Error(`model answered ${width} labels per input`);
      out[r] = Number(data[r]);
      continue;
    }
    let best = 0;
    for (let c = 1; c < width; c++) if (Number(data[r * width + c]) > Number(data[r * width + best])) best = c;
    out[r] = best;
  }
  return out;
}
