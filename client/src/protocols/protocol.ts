// What one protocol is: how to learn a model's input (metadata), how to build a request for a batch
// of inputs, and how to read top-1 labels from its answer. Everything else (the HTTP stack, path
// prefixes, headers, rate limits, budget refusals, idempotent retries, batch splitting and the
// counting of a split batch) is the same for every protocol and lives in endpoint.ts and
// oracle-http.ts. Adding a protocol is one file here and one line in protocols/index.ts.
import type { Answer, Endpoint } from '../endpoint.js';
import type { EncodedBatch, Encoding, EncodingName } from '../encoding.js';

/** The target flags a protocol may read (client/src/target.ts parses them once). */
export interface ProtocolArgs {
  /** The deployment / model name (--deployment). */
  model: string;
  /** A Bearer key was given (--key). */
  hasKey: boolean;
  version?: string;
  inputShape?: readonly [number, number, number];
  range?: readonly [number, number];
  inputName?: string;
  outputName?: string;
  maxBatch?: number;
  encoding: Encoding;
  /** json: the request body with the input's placeholder. */
  template?: string;
  /** json: where the label is in the answer. */
  labelPath?: string;
  /** Class names in index order (--classes FILE), to map a named answer to an index. */
  classes?: string[];
  /** tfserving: nhwc (TensorFlow's default) or nchw. */
  layout?: 'nhwc' | 'nchw';
}

interface Request {
  path: string;
  body: Uint8Array;
  headers: Record<string, string>;
}

/** A connected model: what the oracle needs to query it. */
export interface Session {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  /** Most inputs per request; a larger batch is split. */
  readonly maxBatch: number;
  readonly encoding: Encoding;
  /** For input preprocessing ('imagenet' crops). */
  readonly dataset: string;
  /** One line for the operator. */
  readonly banner: string;
  /** How answers became labels (the record's labelSource). */
  readonly labelSource: string;
  /** The request for `count` encoded inputs. */
  request(batch: EncodedBatch, count: number): Request;
  /** Top-1 labels of a 200 answer; throws ProtocolError when the answer is not what the protocol says. */
  labels(answer: Answer, count: number): Int32Array;
}

export interface Protocol {
  readonly name: string;
  /** One line for --help. */
  readonly summary: string;
  /** The encodings it can carry, the default first. */
  readonly encodings: readonly EncodingName[];
  connect(endpoint: Endpoint, args: ProtocolArgs): Promise<Session>;
}

/** The endpoint answered, but not in the protocol's shape (runtime error, exit 1). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** The flags do not fit the protocol (usage error, exit 2). */
export class ProtocolUsageError extends Error {
  override name = 'ProtocolUsageError';
}

/** The answer's body as JSON, or a ProtocolError naming the route. */
export function answerJson(answer: Answer, what: string): unknown {
  const text = answer.body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`${what}: the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** The index of the largest score, ties to the lowest index. */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c] > scores[best]) best = c;
  return best;
}

/** A class name (or a number as text) → its index, by the class list. */
export function classIndex(name: string, classes: readonly string[] | undefined, what: string): number {
  if (classes) {
    const i = classes.indexOf(name);
    if (i >= 0) return i;
    throw new ProtocolError(
      `${what}: the answer's class "${name}" is not in the classes file (${classes.length} classes: ${classes.slice(0, 5).join(', ')}${classes.length > 5 ? ', …' : ''})`,
    );
  }
  if (/^\d+$/.test(name)) return Number(name);
  throw new ProtocolError(`${what}: the answer names the class "${name}"; give the class names in index order with --classes FILE`);
}

/** CHW float32 → nested arrays (C, H, W) or (H, W, C). */
export function nested(x: Float32Array, [c, h, w]: readonly [number, number, number], layout: 'nchw' | 'nhwc'): number[][][] {
  const plane = h * w;
  if (layout === 'nchw')
    return Array.from({ length: c }, (_, ch) => Array.from({ length: h }, (_, y) => Array.from(x.subarray(ch * plane + y * w, ch * plane + (y + 1) * w))));
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, xx) => Array.from({ length: c }, (_, ch) => x[ch * plane + y * w + xx])));
}

/** "C,H,W" flag → shape (given), else a usage error naming the protocol. */
export function requireShape(args: ProtocolArgs, protocol: string): readonly [number, number, number] {
  if (!args.inputShape) throw new ProtocolUsageError(`--protocol ${protocol} needs --input-shape C,H,W (the protocol does not tell the input's shape)`);
  return args.inputShape;
}

export function requireEncoding(args: ProtocolArgs, p: Pick<Protocol, 'name' | 'encodings'>): Encoding {
  if (!p.encodings.includes(args.encoding.name))
    throw new ProtocolUsageError(`--protocol ${p.name} carries ${p.encodings.join(', ')} inputs, not ${args.encoding.name}`);
  return args.encoding;
}
