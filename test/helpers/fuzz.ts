// Malformed requests for every route and content type, as fast-check arbitraries, and a sender
// over real HTTP with a deadline per request. Used by test/unit/server/fuzz.test.ts (bounded) and
// scripts/fuzz-server.ts (10,000+ requests with a report).
import fc from 'fast-check';
import { request, Agent } from 'node:http';
import { float32ToBase64 } from '@rs-arena/shared/tensor';
import { KEYS, TEST_DEPLOYMENTS, testConfig } from './app.js';
import { jpegBomb, otherFormats } from './hostile.js';
import { tensorToPng } from '@rs-arena/shared/image';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Deployments the fuzzer never names, on both models: their labels are checked before and after. */
export const PROBES = [
  { id: 'probe-a', model: 'fmnist-cnn', maxBatch: 16 },
  { id: 'probe-b', model: 'fmnist-cnn-randtrain', maxBatch: 16 },
];

/** A server config where every accepted request is cheap, so a slow answer means a real hang. */
export function fuzzConfig() {
  return testConfig({
    deployments: [...TEST_DEPLOYMENTS, { id: 'toString', model: 'fmnist-cnn' }, ...PROBES],
    bodyLimitBytes: 256 * 1024,
    maxVotesN: 200,
    maxCertifyN: 400,
    maxForwardPasses: { client: 6000, evaluator: 6000, admin: 6000 },
    requestTimeoutMs: 5000,
  });
}

/** Bodies decoded once (images need sharp): the pool the arbitraries pick from. */
export async function hostileBodies(): Promise<Record<string, Buffer>> {
  const png = await tensorToPng(new Float32Array(784).fill(0.5), [1, 28, 28]);
  return {
    ...(await otherFormats()),
    png,
    truncatedPng: png.subarray(0, Math.floor(png.length / 2)),
    bomb: await jpegBomb(16000, 16000),
    wideBomb: await jpegBomb(60000, 30),
  };
}

const ids = fc.constantFrom(
  'plain',
  'rs',
  'cohen',
  'hidden',
  'toString',
  'constructor',
  '__proto__',
  'valueOf',
  'hasOwnProperty',
  'nope',
  '',
  '%00',
  '..%2F..%2Fetc',
  'a'.repeat(300),
  'x%20y',
);
const numberText = fc.oneof(
  fc.constantFrom(
    '0x10',
    '1e2',
    '-1',
    '0',
    '1.5',
    '',
    '%205',
    'NaN',
    'Infinity',
    '-0',
    '99999999999999999999',
    '1,2',
    '[20]',
    '%00',
    '0.01',
    '5',
    '0.5',
    '0.6',
  ),
  fc.integer({ min: -1e9, max: 1e12 }).map(String),
  fc.double().map(String),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const query = fc
  .array(fc.tuple(fc.constantFrom('n', 'n0', 'alpha', 'x', '__proto__', 'constructor'), numberText), { maxLength: 3 })
  .map((pairs) => (pairs.length ? '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&') : ''));
// Mostly valid keys, so most requests get past authentication to the parsers behind it.
const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(`Bearer ${KEYS.client}`, `Bearer ${KEYS.evaluator}`, `Bearer ${KEYS.admin}`, `bearer  ${KEYS.evaluator}  `) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, 'Bearer', 'Basic abc', 'Bearer wrong-key-0123456789') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')) },
);
const contentType = fc.constantFrom(
  'application/octet-stream',
  'application/json',
  'image/png',
  'image/jpeg',
  'text/plain',
  'image/gif',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-8',
  'APPLICATION/OCTET-STREAM',
  'image/svg+xml',
  'application/x-www-form-urlencoded',
  undefined,
);

/** Float32 payloads: right or wrong length, NaN, ±Inf, out of range, subnormal, huge. */
const floats = fc
  .record({
    count: fc.oneof(fc.constantFrom(0, 1, 2, 9, 65), fc.integer({ min: 0, max: 70 })),
    extra: fc.constantFrom(0, 0, 0, 1, 3, 783),
    poison: fc.constantFrom(undefined, NaN, Infinity, -Infinity, -1, 1.0000001, 3e38, 1e-45, -0),
    at: fc.nat(),
  })
  .map(({ count, extra, poison, at }) => {
    const v = new Float32Array(count * 784 + extra).fill(0.5);
    if (poison !== undefined && v.length) v[at % v.length] = poison;
    return Buffer.from(v.buffer);
  });

const jsonValue = fc.oneof(
  fc.constantFrom(null, true, 'x', '0.01', [20], { __proto__: { polluted: 1 } }, NaN, 1e308, -1, 0, 0.5, 10.5, 2 ** 53 + 1),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 10 }),
);
const tensorJson = fc.oneof(
  fc.record({
    dtype: fc.constantFrom('float32', 'float64', 'int8', ''),
    shape: fc.oneof(fc.constant([1, 1, 28, 28]), fc.array(fc.oneof(fc.integer({ min: -5, max: 1e9 }), fc.double()), { maxLength: 6 })),
    data: fc.oneof(
      fc.constant(float32ToBase64(new Float32Array(784).fill(0.5))),
      fc.constant(float32ToBase64(new Float32Array(784).fill(NaN))),
      fc.base64String({ maxLength: 64 }),
      fc.constantFrom('@@@', '', '===='),
    ),
  }),
  jsonValue,
);
const jsonBody = fc.oneof(
  fc
    .record({ inputs: tensorJson, n: fc.option(jsonValue), n0: fc.option(jsonValue), alpha: fc.option(jsonValue) }, { requiredKeys: ['inputs'] })
    .map((o) => JSON.stringify(o)),
  fc
    .record(
      {
        id: fc.oneof(ids, fc.string()),
        model: fc.constantFrom('fmnist-cnn', 'nope', 'toString', ''),
        sigma: jsonValue,
        n: jsonValue,
        defense: fc.constantFrom(undefined, 'none', 'gaussian', 'toString', '__proto__'),
        batchSize: fc.constantFrom(undefined, 4096, 0, -1, 1.5, '10'),
        disclose: fc.option(jsonValue),
      },
      { requiredKeys: ['model'] },
    )
    .map((o) => JSON.stringify(o)),
  fc
    .record({
      role: fc.constantFrom('client', 'admin', 'root', 'constructor'),
      budgets: fc.dictionary(fc.constantFrom('*', 'toString', '__proto__', 'rs'), jsonValue),
      secret: fc.option(fc.string()),
    })
    .map((o) => JSON.stringify(o)),
  fc.record({ deployment: fc.oneof(ids, fc.constant('*')), limit: jsonValue }).map((o) => JSON.stringify(o)),
  fc.constantFrom(
    '{',
    '{"inputs": [',
    '[]',
    'null',
    '"x"',
    '{"__proto__": {"x": 1}}',
    '{"constructor": {"prototype": {"x": 1}}}',
    '1e999',
    '{"inputs": {"dtype": "float32", "shape": [1,1,28,28], "data": 5}}',
  ),
  fc.string({ maxLength: 200 }),
);

export function requestArbitrary(bodies: Record<string, Buffer>): fc.Arbitrary<FuzzRequest> {
  const body = fc.oneof(
    { weight: 3, arbitrary: floats },
    { weight: 3, arbitrary: jsonBody.map((s) => Buffer.from(s)) },
    { weight: 2, arbitrary: fc.constantFrom(...Object.values(bodies)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  );
  const modelRoute = fc
    .tuple(ids, fc.constantFrom('predict', 'votes', 'certify'), query)
    .map(([id, op, q]) => ({ method: 'POST', path: `/v1/deployments/${encodeURIComponent(id)}/${op}${q}` }));
  const otherRoute = fc.oneof(
    fc.constantFrom(
      { method: 'GET', path: '/v1/usage' },
      { method: 'GET', path: '/v1/deployments' },
      { method: 'GET', path: '/metrics' },
      { method: 'GET', path: '/readyz' },
      { method: 'GET', path: '/healthz' },
      { method: 'GET', path: '/openapi.json' },
      { method: 'POST', path: '/v1/admin/deployments' },
      { method: 'GET', path: '/v1/admin/usage' },
      { method: 'POST', path: '/v1/admin/keys' },
      { method: 'POST', path: '/v1/admin/usage/reset' },
      { method: 'PUT', path: '/v1/admin/keys/client/budgets' },
      { method: 'PUT', path: '/v1/admin/keys/toString/budgets' },
      { method: 'DELETE', path: '/v1/admin/keys/constructor' },
      { method: 'DELETE', path: '/v1/admin/deployments/__proto__' },
      { method: 'PATCH', path: '/v1/usage' },
      { method: 'GET', path: '/v1/deployments/toString' },
      { method: 'GET', path: '/v1/usage?key=leak' },
    ),
    fc.string({ maxLength: 30 }).map((s) => ({ method: 'GET', path: '/' + encodeURIComponent(s) })),
  );
  return fc
    .record({
      route: fc.oneof({ weight: 4, arbitrary: modelRoute }, { weight: 1, arbitrary: otherRoute }),
      authorization,
      contentType,
      body: fc.option(body, { freq: 8 }),
    })
    .map(({ route, authorization, contentType, body }) => {
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (contentType !== undefined && body) headers['content-type'] = contentType;
      return { ...route, headers, ...(body && route.method !== 'GET' ? { body } : {}) };
    });
}

export interface Sent {
  status: number | 'hang' | 'reset';
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

/** Sends one request; 'hang' when no answer came within `timeoutMs`. */
export function send(port: number, r: FuzzRequest, timeoutMs = 5000): Promise<Sent> {
  const started = performance.now();
  return new Promise((resolve) => {
    // An explicit length: Node's client sends a DELETE body undelimited otherwise.
    const headers = r.body ? { ...r.headers, 'content-length': String(r.body.length) } : r.headers;
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode ?? 0));
      res.on('error', () => finish('reset'));
    });
    const timer = setTimeout(() => {
      finish('hang');
      req.destroy();
    }, timeoutMs);
    let done = false;
    function finish(status: Sent['status']) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ status, ms: performance.now() - started });
    }
    req.on('error', () => finish('reset'));
    req.end(r.body);
  });
}

export const destroyAgent = () => agent.destroy();
