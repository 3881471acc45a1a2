// Conformance of /v2 to the Open Inference Protocol (KServe v2 REST) and Triton's binary tensor data
// extension: routes, status codes and bodies as the specification gives them; the same labels as
// /v1 predict on the same input, counted in the same usage; every malformed request a 4xx
// `{"error"}` that charges nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import {
  HEADER_LENGTH,
  InferenceResponse,
  LiveResponse,
  ModelMetadata,
  ModelReadyResponse,
  OipErrorBody,
  ReadyResponse,
  ServerMetadata,
  decodeInferResponse,
  encodeInferRequest,
} from '@rs-arena/shared/oip';
import { UsageResponse } from '@rs-arena/shared/api';
import { auth, binary, images, testApp } from '../../helpers/app.js';

let app: FastifyInstance;
before(async () => {
  app = await testApp();
});
after(() => app.close());

const client = auth('client');
const predictV1 = (a: FastifyInstance, deployment: string, values: Float32Array) => {
  const body = binary(values);
  return a.inject({ method: 'POST', url: `/v1/deployments/${deployment}/predict`, headers: { ...client, ...body.headers }, payload: body.payload });
};
const SHAPE = [1, 28, 28];

function jsonInfer(values: Float32Array, count: number, extra: Record<string, unknown> = {}) {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [count, ...SHAPE], data: Array.from(values) }], ...extra };
}

async function infer(model: string, payload: unknown, headers: Record<string, string> = {}, a = app) {
  return a.inject({ method: 'POST', url: `/v2/models/${model}/infer`, headers: { ...client, ...headers }, payload: payload as string });
}

function labelsOf(res: { rawPayload: Buffer; headers: Record<string, unknown> }): number[] {
  const { outputs } = decodeInferResponse(res.rawPayload, res.headers[HEADER_LENGTH] as string | undefined);
  assert.equal(outputs.length, 1);
  assert.equal(outputs[0].name, 'label');
  assert.equal(outputs[0].datatype, 'INT64');
  return Array.from(outputs[0].data as BigInt64Array, Number);
}

async function queries(deployment: string, a = app): Promise<{ queries: number; rejected: number; forwardPasses: number | undefined }> {
  const res = await a.inject({ method: 'GET', url: '/v1/usage', headers: client });
  const d = UsageResponse.parse(res.json()).deployments.find((x) => x.deployment === deployment)!;
  return { queries: d.queries, rejected: d.rejected, forwardPasses: d.forwardPasses };
}

test('server metadata and health: the routes and bodies of the specification, no key needed', async () => {
  const meta = await app.inject({ method: 'GET', url: '/v2' });
  assert.equal(meta.statusCode, 200);
  const m = ServerMetadata.parse(meta.json());
  assert.equal(m.name, 'rs-arena');
  assert.ok(m.extensions.includes('binary_tensor_data'));
  const live = await app.inject({ method: 'GET', url: '/v2/health/live' });
  assert.equal(live.statusCode, 200);
  assert.deepEqual(LiveResponse.parse(live.json()), { live: true });
  const ready = await app.inject({ method: 'GET', url: '/v2/health/ready' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ReadyResponse.parse(ready.json()), { ready: true });
  const nowhere = await app.inject({ method: 'GET', url: '/v2/nowhere' });
  assert.equal(nowhere.statusCode, 404);
  OipErrorBody.parse(nowhere.json());
});

test('model metadata and readiness, with and without a version; unknown models and versions are 404; a key is needed', async () => {
  for (const url of ['/v2/models/plain', '/v2/models/plain/versions/1']) {
    const res = await app.inject({ method: 'GET', url, headers: client });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(ModelMetadata.parse(res.json()), {
      name: 'plain',
      versions: ['1'],
      platform: 'rs-arena',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
      outputs: [{ name: 'label', datatype: 'INT64', shape: [-1, 1] }],
    });
    const ready = await app.inject({ method: 'GET', url: `${url}/ready`, headers: client });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ModelReadyResponse.parse(ready.json()), { name: 'plain', ready: true });
  }
  for (const url of ['/v2/models/nope', '/v2/models/plain/versions/2', '/v2/models/nope/ready', '/v2/models/plain/versions/7/ready']) {
    const res = await app.inject({ method: 'GET', url, headers: client });
    assert.equal(res.statusCode, 404, url);
    assert.match(OipErrorBody.parse(res.json()).error, /unknown model "nope"|no version "(2|7)"/);
  }
  const noKey = await app.inject({ method: 'GET', url: '/v2/models/plain' });
  assert.equal(noKey.statusCode, 401);
  assert.deepEqual(Object.keys(noKey.json()), ['error']);
  const badKey = await app.inject({ method: 'GET', url: '/v2/models/plain', headers: { authorization: 'Bearer not-a-key-0123456789' } });
  assert.equal(badKey.statusCode, 401);
  // Undisclosed deployment: nothing about its model or smoothing.
  const hidden = await app.inject({ method: 'GET', url: '/v2/models/hidden', headers: client });
  assert.equal(hidden.statusCode, 200);
  assert.doesNotMatch(hidden.body, /fmnist|sigma|0\.25|randtrain/i);
});

test('a JSON infer request and a binary-extension one answer the labels of /v1 predict, and usage counts all three', async () => {
  const { values } = images(5);
  const before = await queries('plain');
  const v1 = await predictV1(app, 'plain', values);
  assert.equal(v1.statusCode, 200);
  const expected = v1.json().labels as number[];

  const json = await infer('plain', jsonInfer(values, 5, { id: 'req-42' }));
  assert.equal(json.statusCode, 200, json.body);
  assert.match(json.headers['content-type'] as string, /application\/json/);
  const response = InferenceResponse.parse(json.json());
  assert.equal(response.id, 'req-42');
  assert.equal(response.model_name, 'plain');
  assert.deepEqual(response.outputs[0].shape, [5, 1]);
  assert.deepEqual(response.outputs[0].data, expected);

  // Nested data (one array per dimension) is the same tensor.
  const nested = Array.from({ length: 5 }, (_, i) => [
    Array.from({ length: 28 }, (_, r) => Array.from(values.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28))),
  ]);
  const nestedRes = await infer('plain', { inputs: [{ name: 'input', datatype: 'FP32', shape: [5, 1, 28, 28], data: nested }] });
  assert.deepEqual(labelsOf(nestedRes), expected);

  const bin = encodeInferRequest({ id: 'b', outputs: [{ name: 'label', parameters: { binary_data: true } }] }, [
    { name: 'input', datatype: 'FP32', shape: [5, ...SHAPE], data: values, binary: true },
  ]);
  const binRes = await infer('plain', bin.body, bin.headers);
  assert.equal(binRes.statusCode, 200, binRes.body);
  assert.equal(binRes.headers['content-type'], 'application/octet-stream');
  const headerLength = Number(binRes.headers[HEADER_LENGTH]);
  assert.equal(binRes.rawPayload.length, headerLength + 5 * 8, 'five little-endian INT64 after the JSON header');
  const header = JSON.parse(binRes.rawPayload.subarray(0, headerLength).toString());
  assert.equal(header.id, 'b');
  assert.deepEqual(header.outputs[0].parameters, { binary_data_size: 40 });
  assert.deepEqual(labelsOf(binRes), expected);

  // Binary input, JSON output (no binary output asked); then binary_data_output for every output.
  const binIn = encodeInferRequest({}, [{ name: 'input', datatype: 'FP32', shape: [5, ...SHAPE], data: values, binary: true }]);
  const binInRes = await infer('plain', binIn.body, binIn.headers);
  assert.equal(binInRes.headers[HEADER_LENGTH], undefined);
  assert.deepEqual(InferenceResponse.parse(binInRes.json()).outputs[0].data, expected);
  const allBin = await infer('plain', jsonInfer(values, 5, { parameters: { binary_data_output: true } }));
  assert.ok(allBin.headers[HEADER_LENGTH]);
  assert.deepEqual(labelsOf(allBin), expected);
  // The version path answers the same.
  const versioned = await app.inject({ method: 'POST', url: '/v2/models/plain/versions/1/infer', headers: client, payload: jsonInfer(values, 5) });
  assert.deepEqual(labelsOf(versioned), expected);

  const afterCount = await queries('plain');
  assert.equal(afterCount.queries - before.queries, 7 * 5, 'one v1 and six v2 requests of 5 queries each');
});

test('a seeded RS deployment answers /v2 exactly as /v1: same seed, same noise, same labels', async () => {
  const { values } = images(8, 20);
  const a = await testApp();
  const b = await testApp();
  try {
    const v1 = await predictV1(a, 'rs', values);
    const bin = encodeInferRequest({ parameters: { binary_data_output: true } }, [
      { name: 'input', datatype: 'FP32', shape: [8, ...SHAPE], data: values, binary: true },
    ]);
    const v2 = await infer('rs', bin.body, bin.headers, b);
    assert.deepEqual(labelsOf(v2), v1.json().labels);
    assert.deepEqual(await queries('rs', b), await queries('rs', a));
    assert.equal((await queries('rs', b)).forwardPasses, 8 * 10);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('every malformed v2 request gets a 4xx {"error"} naming the problem, never a 5xx, never charged', async () => {
  const { values } = images(2);
  const one = values.subarray(0, 784);
  const bin = (shape: number[], data: Float32Array, size?: number, extra = new Uint8Array(0)) => {
    const header = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape, parameters: { binary_data_size: size ?? data.byteLength } }] }),
    );
    return {
      payload: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength), extra]),
      headers: { [HEADER_LENGTH]: String(header.length), 'content-type': 'application/octet-stream' },
    };
  };
  const json = (body: unknown) => ({ payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const input = (over: Record<string, unknown>) =>
    json({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, ...SHAPE], data: Array.from(one), ...over }] });
  const good = bin([1, ...SHAPE], one);
  const cases: [string, { payload: string | Buffer; headers: Record<string, string> }, RegExp, number?, string?][] = [
    ['empty body', { payload: '', headers: {} }, /empty body/],
    ['not JSON', { payload: '{"inputs": [', headers: { 'content-type': 'application/json' } }, /not valid JSON/],
    ['no inputs', json({ outputs: [] }), /inputs/],
    ['empty inputs', json({ inputs: [] }), /inputs/],
    ['INT64 input', input({ datatype: 'INT64', data: Array.from(one, () => 0) }), /datatype must be FP32, got INT64/],
    ['FP64 input', input({ datatype: 'FP64' }), /datatype must be FP32, got FP64/],
    ['unknown datatype', input({ datatype: 'FLOAT' }), /datatype/],
    ['BYTES input', input({ datatype: 'BYTES', data: ['a'] }), /BYTES is not supported/],
    ['data shorter than the shape', input({ data: [0.5, 0.5] }), /shape holds 784 values but data has 2/],
    ['data longer than the shape', input({ data: [...Array.from(one), 0.1] }), /shape holds 784 values but data has 785/],
    ['wrong image shape', input({ shape: [1, 28, 28, 1] }), /shape \[1,28,28,1\] must be \[-1, 1, 28, 28\]/],
    ['missing batch dimension', input({ shape: SHAPE }), /must be \[-1, 1, 28, 28\]/],
    ['empty batch', input({ shape: [0, ...SHAPE], data: [] }), /empty batch/],
    ['a string in the data', input({ data: ['0.5', ...Array.from(one).slice(1)] }), /FP32 data must be numbers/],
    ['a value out of range', input({ data: [2, ...Array.from(one).slice(1)] }), /item 0, element 0 is 2, outside the model's range \[0, 1\]/],
    [
      'data nested 100,000 deep',
      {
        payload: `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,28,28],"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`,
        headers: { 'content-type': 'application/json' },
      },
      /nested deeper than any shape|not valid JSON/,
    ],
    ['a shape of 10^12 values', input({ shape: [1_000_000, 1_000_000, 1, 1] }), /shape holds 1000000000000 values but data has 784/],
    [
      'a binary shape of 10^12 values',
      bin([1_000_000, 1_000_000, 1, 1], one),
      /binary_data_size is 3136 bytes but shape \[1000000,1000000,1,1\] of FP32 needs 4000000000000/,
    ],
    ['wrong input name', input({ name: 'x' }), /unknown input "x"/],
    [
      'two inputs',
      json({ inputs: [1, 2].map(() => ({ name: 'input', datatype: 'FP32', shape: [1, ...SHAPE], data: Array.from(one) })) }),
      /has one input.*the request has 2/,
    ],
    [
      'unknown output',
      json({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, ...SHAPE], data: Array.from(one) }], outputs: [{ name: 'scores' }] }),
      /unknown output "scores"/,
    ],
    [
      'non-boolean binary_data',
      json({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, ...SHAPE], data: Array.from(one) }],
        outputs: [{ name: 'label', parameters: { binary_data: 'yes' } }],
      }),
      /binary_data must be true or false/,
    ],
    ['non-string id', json({ id: 7, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, ...SHAPE], data: Array.from(one) }] }), /id/],
    ['neither data nor binary_data_size', input({ data: undefined }), /neither data nor parameters.binary_data_size/],
    [
      'header length not a number',
      { payload: good.payload, headers: { ...good.headers, [HEADER_LENGTH]: 'abc' } },
      /Inference-Header-Content-Length must be a non-negative integer/,
    ],
    [
      'header length past the body',
      { payload: good.payload, headers: { ...good.headers, [HEADER_LENGTH]: String(good.payload.length + 1) } },
      /Inference-Header-Content-Length is \d+ but the body has/,
    ],
    ['header length zero', { payload: good.payload, headers: { ...good.headers, [HEADER_LENGTH]: '0' } }, /Inference-Header-Content-Length is 0/],
    [
      'header length cutting the JSON',
      { payload: good.payload, headers: { ...good.headers, [HEADER_LENGTH]: '20' } },
      /JSON header \(first 20 bytes\) is not valid JSON/,
    ],
    ['binary_data_size not matching the shape', bin([1, ...SHAPE], one, 3132), /binary_data_size is 3132 bytes but shape \[1,1,28,28\] of FP32 needs 3136/],
    [
      'binary sizes not adding up (extra bytes)',
      bin([1, ...SHAPE], one, undefined, new Uint8Array(8)),
      /add up to 3136 bytes but 3144 bytes follow the JSON header/,
    ],
    [
      'binary data cut short',
      { payload: good.payload.subarray(0, good.payload.length - 4), headers: good.headers },
      /binary data ends at byte 3136 of the binary region, which has only 3132/,
    ],
    [
      'binary NaN',
      bin(
        [1, ...SHAPE],
        Float32Array.from(one, (v, i) => (i === 3 ? NaN : v)),
      ),
      /element 3 is NaN: values must be finite/,
    ],
    ['data and binary_data_size', input({ parameters: { binary_data_size: 3136 } }), /both data and parameters.binary_data_size/],
    [
      'batch over the maximum',
      input({ shape: [65, ...SHAPE], data: Array.from({ length: 65 * 784 }, () => 0.5) }),
      /batch of 65 exceeds this model's maximum of 64/,
    ],
    ['unknown model', input({}), /unknown model "nope"/, 404, 'nope'],
    ['unknown version', input({}), /no version "2"/, 404, 'plain/versions/2'],
  ];
  const before = await queries('plain');
  for (const [name, req, message, status = 400, model = 'plain'] of cases) {
    const res = await app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, headers: { ...client, ...req.headers }, payload: req.payload });
    assert.equal(res.statusCode, status, `${name}: ${res.statusCode} ${res.body}`);
    const body = OipErrorBody.strict().parse(res.json());
    assert.match(body.error, message, name);
  }
  const noKey = await app.inject({ method: 'POST', url: '/v2/models/plain/infer', headers: good.headers, payload: good.payload });
  assert.equal(noKey.statusCode, 401);
  assert.match(noKey.json().error, /missing Authorization header/);
  assert.deepEqual(await queries('plain'), before, 'nothing charged');
  // And the well-formed variant of the same request is answered.
  const ok = await app.inject({ method: 'POST', url: '/v2/models/plain/infer', headers: { ...client, ...good.headers }, payload: good.payload });
  assert.equal(ok.statusCode, 200, ok.body);
});

test('budgets: a v2 batch over the remaining budget is a 429 {"error"} without Retry-After, charging nothing', async () => {
  const limited = await testApp({}, 3);
  try {
    const { values } = images(2);
    const first = await infer('plain', jsonInfer(values, 2), {}, limited);
    assert.equal(first.statusCode, 200);
    assert.equal(InferenceResponse.parse(first.json()).parameters?.queries_remaining, 1);
    const refused = await infer('plain', jsonInfer(values, 2), {}, limited);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['retry-after'], undefined);
    assert.match(OipErrorBody.parse(refused.json()).error, /query budget exhausted/);
    assert.equal((await queries('plain', limited)).queries, 2);
  } finally {
    await limited.close();
  }
});

test('the OpenAPI document lists the /v2 routes with their {"error"} bodies', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  for (const p of [
    '/v2',
    '/v2/health/live',
    '/v2/health/ready',
    '/v2/models/{model}',
    '/v2/models/{model}/versions/{version}/ready',
    '/v2/models/{model}/infer',
  ]) {
    assert.ok(doc.paths[p], p);
  }
  const infer = doc.paths['/v2/models/{model}/infer'].post;
  assert.ok(infer.requestBody.content['application/json']);
  assert.deepEqual(infer.responses['400'].content['application/json'].schema.required, ['error']);
});
