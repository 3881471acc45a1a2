// The Open Inference Protocol (KServe v2, Triton HTTP/REST): zod schemas of its JSON bodies, and a
// codec for tensors, in JSON (`data`, flat or nested row-major) or in Triton's binary tensor data
// extension (the JSON header, then each binary tensor's raw little-endian bytes, in the order of the
// tensors in the header; `Inference-Header-Content-Length` gives the header's length). Used by the
// server's /v2 routes, by the client's v2 oracle and by the remote base model, so that both sides
// read and write the same bytes. Every malformed message is an OipFormatError naming the problem.
import { z } from 'zod';
import { formatZodError } from './zod-error.js';

/** The protocol's tensor element types (BYTES is defined by the protocol but not handled here). */
export const Datatype = z.enum(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);
export type Datatype = z.infer<typeof Datatype>;

/** `$parameters`: string, number or boolean values by name. */
export const Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type Parameters = z.infer<typeof Parameters>;

/** `$tensor_data`: row-major values, flat or nested one array per dimension. */
const TensorData = z.array(z.unknown());

const Shape = z.array(z.number().int().nonnegative()).max(16);

const RequestInput = z.object({
  name: z.string().min(1),
  shape: Shape,
  datatype: Datatype,
  parameters: Parameters.optional(),
  data: TensorData.optional(),
});
export const RequestOutput = z.object({ name: z.string().min(1), parameters: Parameters.optional() });

export const InferenceRequest = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(RequestInput).min(1),
  outputs: z.array(RequestOutput).optional(),
});
export type InferenceRequest = z.infer<typeof InferenceRequest>;

const ResponseOutput = z.object({
  name: z.string(),
  shape: Shape,
  datatype: Datatype,
  parameters: Parameters.optional(),
  data: TensorData.optional(),
});
export const InferenceResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: Parameters.optional(),
  outputs: z.array(ResponseOutput),
});
export type InferenceResponse = z.infer<typeof InferenceResponse>;

export const ServerMetadata = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });
export type ServerMetadata = z.infer<typeof ServerMetadata>;

/** Variable-size dimensions are -1. */
const MetadataTensor = z.object({ name: z.string(), datatype: Datatype, shape: z.array(z.number().int().min(-1)) });
export const ModelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(MetadataTensor),
  outputs: z.array(MetadataTensor),
});
export type ModelMetadata = z.infer<typeof ModelMetadata>;

/** Triton's model configuration (GET /v2/models/{m}/config), the fields a client needs: batch size, tensors, class count. */
export const ModelConfig = z.object({
  name: z.string(),
  platform: z.string(),
  max_batch_size: z.number().int(),
  input: z.array(z.object({ name: z.string(), data_type: z.string(), dims: z.array(z.number().int()) })),
  output: z.array(z.object({ name: z.string(), data_type: z.string(), dims: z.array(z.number().int()) })),
  /** rs-arena: the class names, so a label can be read without a labels file (KServe/Triton keep them in a labels file). */
  parameters: z.object({ class_names: z.array(z.string()), classes: z.number().int() }).optional(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

/** Triton's model statistics (GET /v2/models/{m}/stats), as far as the caller's own key: its queries on the model. */
export const ModelStats = z.object({
  model_stats: z.array(z.object({ name: z.string(), version: z.string(), inference_count: z.number().int(), execution_count: z.number().int() })),
});

export const LiveResponse = z.object({ live: z.boolean() });
export const ReadyResponse = z.object({ ready: z.boolean() });
export const ModelReadyResponse = z.object({ name: z.string(), ready: z.boolean() });
/** Every failure: `{"error": "<message>"}`. */
export const OipErrorBody = z.object({ error: z.string() });

/** The header that gives the JSON header's byte length in the binary extension. */
export const HEADER_LENGTH = 'inference-header-content-length';

export class OipFormatError extends Error {
  override name = 'OipFormatError';
}

type NumericArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | BigUint64Array | BigInt64Array | Float32Array | Float64Array;
type NumericCtor = { new (length: number): NumericArray; new (buffer: ArrayBuffer, offset?: number, length?: number): NumericArray; BYTES_PER_ELEMENT: number };

/** Each handled datatype's typed array (FP16 has none in Node 20, BYTES is not numeric). */
const ARRAYS: Partial<Record<Datatype, NumericCtor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** A decoded tensor. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: NumericArray;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function ctorOf(datatype: Datatype, where: string): NumericCtor {
  const ctor = ARRAYS[datatype];
  if (!ctor) throw new OipFormatError(`${where}: datatype ${datatype} is not supported here`);
  return ctor;
}

/** Copies raw little-endian bytes into an aligned typed array of `datatype`. */
function fromBytes(bytes: Uint8Array, datatype: Datatype, where: string): NumericArray {
  const ctor = ctorOf(datatype, where);
  const size = ctor.BYTES_PER_ELEMENT;
  // A fresh, aligned copy (Buffer#slice would share the pool's memory).
  const copy = new Uint8Array(bytes);
  if (!LITTLE_ENDIAN && size > 1) for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  return new ctor(copy.buffer, 0, copy.length / size);
}

function toBytes(data: NumericArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = new Uint8Array(bytes);
  for (let i = 0; i < copy.length; i += data.BYTES_PER_ELEMENT) copy.subarray(i, i + data.BYTES_PER_ELEMENT).reverse();
  return copy;
}

/** JSON `data` (flat or nested) → a typed array, every element checked against the datatype. */
function fromJson(data: unknown[], datatype: Datatype, count: number, where: string): NumericArray {
  const ctor = ctorOf(datatype, where);
  // The leaves first: the declared shape is only trusted (allocated) once the data agrees with it.
  const leaves: unknown[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (!Array.isArray(v)) {
      leaves.push(v);
      return;
    }
    // Nesting is one array per dimension at most: deeper is malformed (and must not exhaust the stack).
    if (depth > 16) throw new OipFormatError(`${where}: data nested deeper than any shape`);
    for (const x of v) visit(x, depth + 1);
  };
  visit(data, 0);
  if (leaves.length !== count) throw new OipFormatError(`${where}: shape holds ${count} values but data has ${leaves.length}`);
  const out = new ctor(count);
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  const float = datatype === 'FP32' || datatype === 'FP64';
  leaves.forEach((v, i) => {
    let x: number;
    if (datatype === 'BOOL') {
      if (typeof v !== 'boolean') throw new OipFormatError(`${where}: BOOL data must be true or false, got ${JSON.stringify(v)}`);
      x = v ? 1 : 0;
    } else {
      if (typeof v !== 'number') throw new OipFormatError(`${where}: ${datatype} data must be numbers, got ${JSON.stringify(v)?.slice(0, 40)}`);
      if (!float && !Number.isInteger(v)) throw new OipFormatError(`${where}: ${datatype} data must be integers, got ${v}`);
      x = v;
    }
    if (big) (out as BigInt64Array)[i] = BigInt(x);
    else (out as Float64Array)[i] = x;
  });
  return out;
}

function toJson(data: NumericArray, datatype: Datatype): (number | boolean)[] {
  if (datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

interface WireTensor {
  name: string;
  shape: number[];
  datatype: Datatype;
  parameters?: Parameters;
  data?: unknown[];
}

/**
 * Splits a body into its JSON header and binary region. `headerLength` is the
 * Inference-Header-Content-Length header (undefined: the whole body is JSON).
 */
function splitBody(body: Uint8Array, headerLength: string | undefined): { json: unknown; binary: Uint8Array } {
  let length = body.length;
  if (headerLength !== undefined) {
    if (!/^\d+$/.test(headerLength.trim())) throw new OipFormatError(`Inference-Header-Content-Length must be a non-negative integer, got "${headerLength}"`);
    length = Number(headerLength.trim());
    if (length === 0 || length > body.length) {
      throw new OipFormatError(`Inference-Header-Content-Length is ${length} but the body has ${body.length} bytes (the JSON header must fit in it)`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, length).toString('utf8'));
  } catch (err) {
    const where = headerLength === undefined ? 'body' : `JSON header (first ${length} bytes)`;
    throw new OipFormatError(`the ${where} is not valid JSON: ${(err as Error).message}`);
  }
  return { json, binary: body.subarray(length) };
}

/** Reads each tensor's values from its `data` or from the binary region, checking every size. */
function readTensors(entries: WireTensor[], binary: Uint8Array, what: string): Tensor[] {
  let offset = 0;
  const tensors = entries.map((t, i) => {
    const where = `${what}[${i}] "${t.name}"`;
    const ctor = ctorOf(t.datatype, where);
    const count = elementCount(t.shape);
    const size = t.parameters?.binary_data_size;
    if (size === undefined) {
      if (t.data === undefined) throw new OipFormatError(`${where} has neither data nor parameters.binary_data_size`);
      return { name: t.name, datatype: t.datatype, shape: t.shape, data: fromJson(t.data, t.datatype, count, where) };
    }
    if (t.data !== undefined) throw new OipFormatError(`${where} has both data and parameters.binary_data_size`);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0)
      throw new OipFormatError(`${where}: binary_data_size must be a non-negative integer, got ${JSON.stringify(size)}`);
    const expected = count * ctor.BYTES_PER_ELEMENT;
    if (size !== expected) {
      throw new OipFormatError(`${where}: binary_data_size is ${size} bytes but shape [${t.shape}] of ${t.datatype} needs ${expected}`);
    }
    if (offset + size > binary.length) {
      throw new OipFormatError(`${where}: binary data ends at byte ${offset + size} of the binary region, which has only ${binary.length}`);
    }
    const data = fromBytes(binary.subarray(offset, offset + size), t.datatype, where);
    offset += size;
    return { name: t.name, datatype: t.datatype, shape: t.shape, data };
  });
  if (offset !== binary.length) {
    throw new OipFormatError(`the binary_data_size of the ${what} add up to ${offset} bytes but ${binary.length} bytes follow the JSON header`);
  }
  return tensors;
}

function parseWith<S extends z.ZodType>(schema: S, json: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  throw new OipFormatError(`invalid ${what}: ${formatZodError(result.error, { schema, max: 3 })}`);
}

/** An inference request body (JSON, or the binary extension when `headerLength` is given). */
export function decodeInferRequest(body: Uint8Array, headerLength?: string): { request: InferenceRequest; inputs: Tensor[] } {
  const { json, binary } = splitBody(body, headerLength);
  const request = parseWith(InferenceRequest, json, 'inference request');
  return { request, inputs: readTensors(request.inputs, binary, 'inputs') };
}

/** An inference response body (JSON, or the binary extension when `headerLength` is given). */
export function decodeInferResponse(body: Uint8Array, headerLength?: string): { response: InferenceResponse; outputs: Tensor[] } {
  const { json, binary } = splitBody(body, headerLength);
  const response = parseWith(InferenceResponse, json, 'inference response');
  return { response, outputs: readTensors(response.outputs, binary, 'outputs') };
}

export interface OutgoingTensor extends Tensor {
  /** Send as binary data after the JSON header, rather than as JSON `data`. */
  binary: boolean;
  parameters?: Parameters;
}

export interface Encoded {
  body: Buffer;
  /** content-type, and inference-header-content-length when any tensor is binary. */
  headers: Record<string, string>;
}

/** JSON header + binary tensors; a plain JSON body when no tensor is binary. */
function encodeMessage(header: Record<string, unknown>, key: 'inputs' | 'outputs', tensors: OutgoingTensor[]): Encoded {
  const chunks: Uint8Array[] = [];
  header[key] = tensors.map((t) => {
    if (elementCount(t.shape) !== t.data.length)
      throw new OipFormatError(`${key} "${t.name}": shape [${t.shape}] holds ${elementCount(t.shape)} values, got ${t.data.length}`);
    const base = { name: t.name, shape: t.shape, datatype: t.datatype };
    if (!t.binary) return { ...base, ...(t.parameters ? { parameters: t.parameters } : {}), data: toJson(t.data, t.datatype) };
    const bytes = toBytes(t.data);
    chunks.push(bytes);
    return { ...base, parameters: { ...t.parameters, binary_data_size: bytes.byteLength } };
  });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (chunks.length === 0) return { body: json, headers: { 'content-type': 'application/json' } };
  return {
    body: Buffer.concat([json, ...chunks]),
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(json.length) },
  };
}

export function encodeInferRequest(
  request: { id?: string; parameters?: Parameters; outputs?: z.infer<typeof RequestOutput>[] },
  inputs: OutgoingTensor[],
): Encoded {
  const header: Record<string, unknown> = {};
  if (request.id !== undefined) header.id = request.id;
  if (request.parameters) header.parameters = request.parameters;
  if (request.outputs) header.outputs = request.outputs;
  return encodeMessage(header, 'inputs', inputs);
}

export function encodeInferResponse(
  response: { model_name: string; model_version?: string; id?: string; parameters?: Parameters },
  outputs: OutgoingTensor[],
): Encoded {
  return encodeMessage({ ...response }, 'outputs', outputs);
}

/**
 * Which outputs a request wants as binary: `binary_data` on the output overrides the request's
 * `binary_data_output` (Triton's rule). `name` absent from `outputs`: the request-wide default.
 */
export function wantsBinary(request: InferenceRequest, name: string): boolean {
  const own = request.outputs?.find((o) => o.name === name)?.parameters?.binary_data;
  if (own !== undefined) return own === true;
  return request.parameters?.binary_data_output === true;
}
