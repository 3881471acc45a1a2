// What `rs-arena attack` aims at: an rs-arena deployment over /v1, or any Open Inference Protocol
// model over /v2 (`--protocol v2`, or detected: GET {prefix}/v2). The flags of the endpoint and of
// the v2 oracle live here, so the attack command only spreads them and calls `connectTarget`.
import { disclosedRandomness } from './randomness.js';
import { Endpoint, EndpointError, detectProtocol, parseEndpoint, parseHeaders, type Protocol } from './endpoint.js';
import { HttpOracle } from './oracle-http.js';
import { V2Oracle } from './oracle-v2.js';
import type { Oracle } from './oracle.js';

const text = { type: 'string' } as const;
export const TARGET_FLAGS = {
  protocol: { type: 'string', default: 'auto' } as const,
  header: { type: 'string', multiple: true, default: [] as string[] } as { type: 'string'; multiple: true; default: string[] },
  'model-version': text,
  'input-shape': text,
  range: text,
  'input-name': text,
  'output-name': text,
  'max-batch': text,
};

export const TARGET_HELP = `  --protocol P         v1 (rs-arena), v2 (Open Inference Protocol: KServe, Triton, …) or auto
                       (default: GET <endpoint>/v2 decides; rs-arena with a --key uses v1)
  --header 'N: V'      extra request header, repeatable (any auth scheme); --key KEY is
                       "Authorization: Bearer KEY" and is optional with v2
  --model-version V    v2: the model version (default: the server's choice)
  --input-shape C,H,W  v2: the input shape when the model's metadata does not give it
  --range LO,HI        v2: the valid input range (default 0,1)
  --input-name N, --output-name N, --max-batch N   v2: which tensors, inputs per request (64)
`;

export interface TargetArgs {
  endpoint: string;
  key?: string;
  deployment: string;
  connections: number;
  protocol?: string;
  header?: string[];
  'model-version'?: string;
  'input-shape'?: string;
  range?: string;
  'input-name'?: string;
  'output-name'?: string;
  'max-batch'?: string;
}

export interface Target {
  protocol: Protocol;
  oracle: Oracle & { close(): Promise<void> };
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

export async function connectTarget(a: TargetArgs): Promise<Target> {
  const headers = wrap(() => parseHeaders(a.header ?? []));
  wrap(() => parseEndpoint(a.endpoint));
  if (!['auto', 'v1', 'v2'].includes(a.protocol ?? 'auto')) throw new TargetUsageError(`--protocol must be v1, v2 or auto, got "${a.protocol}"`);
  let protocol = a.protocol as Protocol | 'auto';
  if (protocol === 'auto') {
    const probe = new Endpoint({ url: a.endpoint, headers, key: a.key, retries: 0 });
    try {
      protocol = (await detectProtocol(probe, Boolean(a.key))).protocol;
    } finally {
      await probe.close();
    }
  }
  if (protocol === 'v1') {
    if (!a.key) throw new TargetUsageError('--key (or RS_ARENA_KEY) is required for an rs-arena /v1 endpoint');
    const oracle = await HttpOracle.connect({ endpoint: a.endpoint, key: a.key, deployment: a.deployment, connections: a.connections });
    const { info } = oracle;
    const smoothing = info.smoothing ? `σ=${info.smoothing.sigma}, n=${info.smoothing.n}` : 'smoothing undisclosed';
    return { protocol, oracle, dataset: info.dataset, banner: `${info.id} (${info.model ?? 'model undisclosed'}, ${smoothing})`, labelSource: 'label', random: disclosedRandomness(info) };
  }
  const oracle = await V2Oracle.connect({
    url: a.endpoint,
    key: a.key,
    headers,
    connections: a.connections,
    model: a.deployment,
    version: a['model-version'],
    inputShape: a['input-shape'] ? (numbers(a['input-shape'], 3, '--input-shape', true) as [number, number, number]) : undefined,
    range: a.range ? (numbers(a.range, 2, '--range', false) as [number, number]) : undefined,
    inputName: a['input-name'],
    outputName: a['output-name'],
    maxBatch: a['max-batch'] ? numbers(a['max-batch'], 1, '--max-batch', true)[0] : undefined,
  });
  const labelSource = oracle.reduction === 'label' ? 'label' : `${oracle.reduction} (top-1 taken on the client)`;
  return {
    protocol,
    oracle,
    dataset: oracle.inputShape[1] >= 100 ? 'imagenet' : 'other',
    banner: `Open Inference Protocol model ${a.deployment} (${oracle.metadata.platform}; answers: ${labelSource}; ${oracle.encoding} tensors)`,
    labelSource,
    // The Open Inference Protocol has no field for a defense: randomness is for the fresh answers to reveal.
    random: null,
  };
}

function numbers(text: string, count: number, flag: string, positiveInts: boolean): number[] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  const ok = parts.length === count && parts.every((v) => Number.isFinite(v) && (!positiveInts || (Number.isInteger(v) && v > 0)));
  if (!ok || (count === 2 && !(parts[0] < parts[1]))) {
    throw new TargetUsageError(`${flag} expects ${count === 1 ? 'a positive integer' : `${count} comma-separated ${positiveInts ? 'positive integers' : 'numbers, low < high'}`}, got "${text}"`);
  }
  return parts;
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof EndpointError) throw new TargetUsageError(err.message);
    throw err;
  }
}
