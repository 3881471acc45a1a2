// What `rs-arena attack` and `rs-arena audit` aim at: a model behind any protocol of the table
// (protocols/index.ts), `--protocol auto` asking GET {prefix}/v2 whether it is an Open Inference
// Protocol server. The endpoint's and the protocols' flags are parsed here, once, so the commands
// only spread them and call `connectTarget`.
import { readFileSync } from 'node:fs';
import { type Encoding, EncodingError, encodingLabel, parseEncoding } from './encoding.js';
import type { DeploymentInfo } from '@rs-arena/shared/api';
import { disclosedRandomness } from './randomness.js';
import { Endpoint, EndpointError, detectProtocol, parseEndpoint, parseHeaders } from './endpoint.js';
import { HttpOracle } from './oracle-http.js';
import { PROTOCOLS, PROTOCOL_NAMES, type ProtocolArgs, type ProtocolName, ProtocolUsageError, isProtocolName } from './protocols/index.js';

const text = { type: 'string' } as const;
export const TARGET_FLAGS = {
  protocol: { type: 'string', default: 'auto' } as const,
  header: { type: 'string', multiple: true, default: [] as string[] } as { type: 'string'; multiple: true; default: string[] },
  encoding: text,
  'model-version': text,
  'input-shape': text,
  range: text,
  'input-name': text,
  'output-name': text,
  'max-batch': text,
  template: text,
  'label-path': text,
  classes: text,
  layout: text,
};

export const TARGET_HELP = `  --protocol P         ${PROTOCOL_NAMES.join(', ')} or auto (default: GET <endpoint>/v2 decides
                       between v2 and v1; rs-arena with a --key uses v1):
${PROTOCOL_NAMES.map((p) => `                         ${p.padEnd(11)}${PROTOCOLS[p].summary}`).join('\n')}
  --header 'N: V'      extra request header, repeatable (any auth scheme); --key KEY is
                       "Authorization: Bearer KEY" and is optional except with v1
  --encoding E         how inputs travel: float32, json (numbers), png (8-bit grid) or jpeg[:Q]
                       (quality Q, default 90); default: the protocol's first. png and jpeg snap
                       every query to what the endpoint sees before it is sent
  --model-version V    v2, tfserving, torchserve: the model version (default: the server's choice)
  --input-shape C,H,W  the input shape when the protocol does not tell it (tfserving without a
                       signature, torchserve, json)
  --range LO,HI        the valid input range (default 0,1) where the protocol does not tell it
  --input-name N, --output-name N   v2, tfserving: which tensors
  --max-batch N        v2, tfserving: inputs per request (64)
  --layout L           tfserving (default nhwc) and json numbers (default nchw): nested arrays order
  --template JSON      json: the request body with "$INPUT" where the input goes, or @FILE
  --label-path P       json: where the label is in the answer ($.label, $.predictions[0].class)
  --classes FILE       class names in index order (JSON array, TorchServe's index_to_name.json, or
                       one per line), to map a named answer to its index
`;

export interface TargetArgs {
  endpoint: string;
  key?: string;
  deployment: string;
  connections: number;
  protocol?: string;
  header?: string[];
  encoding?: string;
  'model-version'?: string;
  'input-shape'?: string;
  range?: string;
  'input-name'?: string;
  'output-name'?: string;
  'max-batch'?: string;
  template?: string;
  'label-path'?: string;
  classes?: string;
  layout?: string;
}

export interface Target {
  protocol: ProtocolName;
  oracle: HttpOracle;
  encoding: Encoding;
  /** For input preprocessing ('imagenet' crops). */
  dataset: string;
  /** One line for the operator. */
  banner: string;
  /** How answers became labels (v2: the model's label, or the client's argmax of its scores). */
  labelSource: string;
  /** What the endpoint discloses about its randomness (randomness.ts): true, false, or null (nothing). */
  random: boolean | null;
}

/** A usage error in the target flags (exit 2), as opposed to a failure to connect (exit 1). */
export class TargetUsageError extends Error {}

/** The flags as protocol arguments, every one checked (usage errors) before anything is sent. */
function targetArgs(a: TargetArgs): {
  protocol: ProtocolName | 'auto';
  headers: Record<string, string>;
  args: Omit<ProtocolArgs, 'encoding'> & { encoding?: Encoding };
} {
  const headers = wrap(() => parseHeaders(a.header ?? []));
  wrap(() => parseEndpoint(a.endpoint));
  const protocol = a.protocol ?? 'auto';
  if (protocol !== 'auto' && !isProtocolName(protocol))
    throw new TargetUsageError(`--protocol must be one of ${PROTOCOL_NAMES.join(', ')} or auto, got "${a.protocol}"`);
  if (a.layout !== undefined && a.layout !== 'nhwc' && a.layout !== 'nchw') throw new TargetUsageError(`--layout must be nhwc or nchw, got "${a.layout}"`);
  return {
    protocol,
    headers,
    args: {
      model: a.deployment,
      hasKey: Boolean(a.key),
      version: a['model-version'],
      inputShape: a['input-shape'] ? (numbers(a['input-shape'], 3, '--input-shape', true) as [number, number, number]) : undefined,
      range: a.range ? (numbers(a.range, 2, '--range', false) as [number, number]) : undefined,
      inputName: a['input-name'],
      outputName: a['output-name'],
      maxBatch: a['max-batch'] ? numbers(a['max-batch'], 1, '--max-batch', true)[0] : undefined,
      encoding: a.encoding === undefined ? undefined : wrap(() => parseEncoding(a.encoding!)),
      template: a.template?.startsWith('@') ? readText(a.template.slice(1), '--template') : a.template,
      labelPath: a['label-path'],
      classes: a.classes === undefined ? undefined : readClasses(a.classes),
      layout: a.layout as 'nhwc' | 'nchw' | undefined,
    },
  };
}

export async function connectTarget(a: TargetArgs): Promise<Target> {
  const t = targetArgs(a);
  let protocol = t.protocol;
  if (protocol === 'auto') {
    const probe = new Endpoint({ url: a.endpoint, headers: t.headers, key: a.key, retries: 0 });
    try {
      protocol = (await detectProtocol(probe, Boolean(a.key))).protocol;
    } finally {
      await probe.close();
    }
  }
  if (protocol === 'v1' && !a.key) throw new TargetUsageError('--key (or RS_ARENA_KEY) is required for an rs-arena /v1 endpoint');
  const encoding = t.args.encoding ?? { name: PROTOCOLS[protocol].encodings[0] };
  const endpoint = new Endpoint({ url: a.endpoint, key: a.key, headers: t.headers, connections: a.connections });
  let oracle: HttpOracle;
  try {
    oracle = await HttpOracle.open(endpoint, protocol, { ...t.args, encoding }, a.connections);
  } catch (err) {
    if (err instanceof ProtocolUsageError) throw new TargetUsageError(err.message);
    throw err;
  }
  const { session } = oracle;
  const grid = encoding.name === 'float32' || session.banner.includes(encoding.name) ? '' : `; inputs as ${encodingLabel(encoding)}`;
  // rs-arena's /v1 says whether its defense is random (when it discloses it); other protocols have no such field.
  const info = (session as { info?: DeploymentInfo }).info;
  return {
    protocol,
    oracle,
    encoding,
    dataset: session.dataset,
    banner: session.banner + grid,
    labelSource: session.labelSource,
    random: info ? disclosedRandomness(info) : null,
  };
}

function numbers(text: string, count: number, flag: string, positiveInts: boolean): number[] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  const ok = parts.length === count && parts.every((v) => Number.isFinite(v) && (!positiveInts || (Number.isInteger(v) && v > 0)));
  if (!ok || (count === 2 && !(parts[0] < parts[1]))) {
    throw new TargetUsageError(
      `${flag} expects ${count === 1 ? 'a positive integer' : `${count} comma-separated ${positiveInts ? 'positive integers' : 'numbers, low < high'}`}, got "${text}"`,
    );
  }
  return parts;
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TargetUsageError(`${flag} @${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** A JSON array of names, {"0": "name"} or {"0": ["wnid", "name"]} (TorchServe), or one name per line. */
function readClasses(path: string): string[] {
  const text = readText(path, '--classes').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const lines = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    if (lines.length === 0) throw new TargetUsageError(`--classes ${path}: no class names`);
    return lines;
  }
  if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed as string[];
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const entries = Object.entries(parsed as Record<string, unknown>);
    const out: string[] = [];
    for (const [k, v] of entries) {
      const name = typeof v === 'string' ? v : Array.isArray(v) && typeof v[v.length - 1] === 'string' ? (v[v.length - 1] as string) : undefined;
      if (!/^\d+$/.test(k) || name === undefined)
        throw new TargetUsageError(`--classes ${path}: expected {"0": "name", …}, got the entry ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      out[Number(k)] = name;
    }
    if (out.length !== entries.length) throw new TargetUsageError(`--classes ${path}: indices must run 0…${entries.length - 1} without gaps`);
    return out;
  }
  throw new TargetUsageError(`--classes ${path}: expected a JSON array of names, {"0": "name", …}, or one name per line`);
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof EndpointError || err instanceof EncodingError || err instanceof ProtocolUsageError) throw new TargetUsageError(err.message);
    throw err;
  }
}
