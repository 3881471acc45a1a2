// Any Open Inference Protocol model (KServe v2 / Triton HTTP/REST: rs-arena's own /v2, Triton,
// KServe, OpenVINO Model Server, …). Input name, shape and output come from the model's metadata
// (or flags); queries go as binary tensor data when the server lists the `binary_tensor_data`
// extension (4 bytes per value instead of ~10 of JSON text), as JSON otherwise (or --encoding json).
// A model that answers class scores (FP32 [-1, K]) is reduced to its top-1 label here, on the
// client, ties to the lowest index: attacks see labels only, and labelSource says which happened.
import { type Datatype, HEADER_LENGTH, ModelMetadata, OipFormatError, decodeInferResponse, encodeInferRequest } from '@rs-arena/shared/oip';
import { formatZodError } from '@rs-arena/shared/zod-error';
import type { Endpoint } from '../endpoint.js';
import { type Protocol, ProtocolError, ProtocolUsageError, type Session, argmax, requireEncoding } from './protocol.js';

const LABEL_TYPES: Datatype[] = ['INT64', 'INT32', 'INT16', 'INT8', 'UINT64', 'UINT32', 'UINT16', 'UINT8'];
const SCORE_TYPES: Datatype[] = ['FP32', 'FP64'];

interface V2Session extends Session {
  readonly metadata: ModelMetadata;
  /** The queries' tensors on the wire. */
  readonly tensors: 'binary' | 'json';
}

export const v2: Protocol = {
  name: 'v2',
  summary: 'Open Inference Protocol (KServe v2, Triton, OpenVINO, rs-arena /v2); float32 (binary tensors when offered) or json',
  encodings: ['float32', 'json'],
  async connect(endpoint: Endpoint, args): Promise<V2Session> {
    const encoding = requireEncoding(args, v2);
    const server = (await endpoint.json('/v2').catch(() => ({}))) as { extensions?: unknown };
    const binary = encoding.name === 'float32' && Array.isArray(server.extensions) && server.extensions.includes('binary_tensor_data');
    const base = modelPath(args.model, args.version);
    const parsed = ModelMetadata.safeParse(await endpoint.json(base));
    if (!parsed.success)
      throw new ProtocolError(
        `model "${args.model}": the metadata does not follow the Open Inference Protocol: ${formatZodError(parsed.error, { schema: ModelMetadata, max: 1 })}`,
      );
    const meta = parsed.data;
    const input = pick(meta.inputs, args.inputName, 'input', args.model);
    const output = pick(meta.outputs, args.outputName, 'output', args.model);
    if (input.datatype !== 'FP32')
      throw new ProtocolError(`model "${args.model}": input "${input.name}" is ${input.datatype}; only FP32 inputs can be attacked`);
    const shape = args.inputShape ?? shapeOf(input.shape, args.model);
    const reduction = reductionOf(output, args.model);
    const scores = reduction !== 'label';
    const labelSource = scores ? `${reduction} (top-1 taken on the client)` : 'label';
    const path = `${base}/infer`;
    return {
      metadata: meta,
      tensors: binary ? 'binary' : 'json',
      inputShape: shape,
      range: args.range ?? [0, 1],
      maxBatch: args.maxBatch ?? 64,
      encoding,
      dataset: shape[1] >= 100 ? 'imagenet' : 'other',
      banner: `Open Inference Protocol model ${args.model} (${meta.platform}; answers: ${labelSource}; ${binary ? 'binary' : 'json'} tensors)`,
      labelSource,
      request(batch, count) {
        const values = batch.values.subarray(0, count * shape[0] * shape[1] * shape[2]);
        const req = encodeInferRequest({ outputs: [{ name: output.name, ...(binary ? { parameters: { binary_data: true } } : {}) }] }, [
          { name: input.name, datatype: 'FP32', shape: [count, ...shape], data: values, binary },
        ]);
        return { path, body: req.body, headers: req.headers };
      },
      labels(answer, count) {
        const header = answer.headers[HEADER_LENGTH];
        let outputs;
        try {
          ({ outputs } = decodeInferResponse(answer.body, Array.isArray(header) ? header[0] : header));
        } catch (err) {
          if (err instanceof OipFormatError || err instanceof SyntaxError) throw new ProtocolError(`POST ${endpoint.prefix}${path}: ${err.message}`);
          throw err;
        }
        const out = outputs.find((o) => o.name === output.name);
        if (!out) throw new ProtocolError(`model answered without output "${output.name}"`);
        return toLabels(out.data, count, scores);
      },
    };
  },
};

const modelPath = (model: string, version?: string) =>
  `/v2/models/${encodeURIComponent(model)}${version === undefined ? '' : `/versions/${encodeURIComponent(version)}`}`;

function pick<T extends { name: string }>(tensors: T[], name: string | undefined, what: string, model: string): T {
  if (name !== undefined) {
    const t = tensors.find((x) => x.name === name);
    if (!t) throw new ProtocolUsageError(`model "${model}" has no ${what} "${name}" (${what}s: ${tensors.map((x) => x.name).join(', ')})`);
    return t;
  }
  if (tensors.length !== 1)
    throw new ProtocolUsageError(`model "${model}" has ${tensors.length} ${what}s (${tensors.map((x) => x.name).join(', ')}): choose one with --${what}-name`);
  return tensors[0];
}

/** [-1, C, H, W] (or any batch dimension) → [C, H, W]. */
function shapeOf(shape: number[], model: string): [number, number, number] {
  const inner = shape.slice(1);
  if (shape.length !== 4 || inner.some((d) => d < 1)) {
    throw new ProtocolUsageError(`model "${model}": input shape [${shape}] is not [batch, C, H, W]; give the input shape with --input-shape C,H,W`);
  }
  return inner as [number, number, number];
}

function reductionOf(output: { name: string; datatype: Datatype; shape: number[] }, model: string): 'label' | `argmax of ${number} scores` {
  const width = output.shape.slice(1).reduce((a, b) => a * b, 1);
  if (LABEL_TYPES.includes(output.datatype) && width === 1) return 'label';
  if (SCORE_TYPES.includes(output.datatype) && width > 1) return `argmax of ${width} scores`;
  throw new ProtocolError(
    `model "${model}": output "${output.name}" (${output.datatype} [${output.shape}]) is neither a label (integer [-1, 1]) nor class scores (FP32 [-1, K])`,
  );
}

/** One label per row: the value itself, or the argmax of the row's scores. */
function toLabels(data: ArrayLike<number | bigint>, count: number, scores: boolean): Int32Array {
  if (data.length === 0 || data.length % count !== 0) throw new ProtocolError(`model answered ${data.length} values for ${count} inputs`);
  const width = data.length / count;
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    if (!scores) {
      if (width !== 1) throw new ProtocolError(`model answered ${width} labels per input`);
      out[r] = Number(data[r]);
      continue;
    }
    out[r] = argmax(Array.from({ length: width }, (_, c) => Number(data[r * width + c])));
  }
  return out;
}
