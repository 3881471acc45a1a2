// Every route through app.inject, and every kind of bad input the issue lists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { encodeTensorJson, float32ToBase64 } from '@rs-arena/shared/tensor';
import { tensorToPng } from '@rs-arena/shared/image';
import { auth, binary, images, testApp, INPUT_SIZE } from '../../helpers/app.js';

let app: FastifyInstance;
before(async () => {
  app = await testApp({ bodyLimitBytes: 1024 * 1024 });
});
after(() => app.close());

const post = (url: string, role: 'admin' | 'evaluator' | 'client', body: { headers: Record<string, string>; payload: unknown }) =>
  app.inject({ method: 'POST', url, headers: { ...auth(role), ...body.headers }, payload: body.payload as string });
const json = (payload: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

function expectError(res: { statusCode: number; json: () => { error: string; message: string } }, status: number, message: RegExp) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  const body = res.json();
  assert.equal(typeof body.error, 'string');
  assert.match(body.message, message);
}

test('health, readiness, metrics and OpenAPI', async () => {
  assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
  const ready = (await app.inject('/readyz')).json();
  assert.equal(ready.status, 'ready');
  assert.deepEqual(ready.models.sort(), ['fmnist-cnn', 'fmnist-cnn-randtrain']);
  const doc = (await app.inject('/openapi.json')).json();
  assert.equal(doc.openapi, '3.1.0');
  const predict = doc.paths['/v1/deployments/{id}/predict'].post;
  assert.deepEqual(Object.keys(predict.requestBody.content).sort(), ['application/json', 'application/octet-stream', 'image/jpeg', 'image/png']);
  assert.ok(predict.responses['429']);
  assert.ok(doc.paths['/v1/admin/deployments'].post.requestBody.content['application/json'].schema.properties.sigma);
});

test('deployment metadata, with σ and n hidden where not disclosed', async () => {
  const list = (await app.inject({ url: '/v1/deployments', headers: auth('client') })).json();
  assert.deepEqual(
    list.deployments.map((d: { id: string }) => d.id),
    ['plain', 'rs', 'cohen', 'hidden'],
  );
  const rs = (await app.inject({ url: '/v1/deployments/rs', headers: auth('client') })).json();
  assert.deepEqual(rs.inputShape, [1, 28, 28]);
  assert.deepEqual(rs.range, [0, 1]);
  assert.equal(rs.classNames[9], 'Ankle boot');
  assert.deepEqual(rs.smoothing, { sigma: 0.25, n: 10, rule: 'majority' });
  const hidden = (await app.inject({ url: '/v1/deployments/hidden', headers: auth('client') })).json();
  assert.equal(hidden.smoothing, null);
  expectError(await app.inject({ url: '/v1/deployments/nope', headers: auth('client') }), 404, /no deployment "nope"/);
});

test('predict over binary, JSON and PNG agree with the labels of the shipped sample', async () => {
  const { values, labels } = images(32);
  const bin = (await post('/v1/deployments/plain/predict', 'client', binary(values))).json();
  assert.equal(bin.labels.length, 32);
  const correct = bin.labels.filter((l: number, i: number) => l === labels[i]).length;
  assert.ok(correct >= 27, `${correct}/32 correct`);
  const viaJson = (await post('/v1/deployments/plain/predict', 'client', json({ inputs: encodeTensorJson(values, [32, 1, 28, 28]) }))).json();
  assert.deepEqual(viaJson.labels, bin.labels);
  // Fashion-MNIST pixels are 8-bit already, so a PNG carries them exactly.
  const png = await tensorToPng(values.subarray(0, INPUT_SIZE), [1, 28, 28]);
  const viaPng = (await post('/v1/deployments/plain/predict', 'client', { headers: { 'content-type': 'image/png' }, payload: png })).json();
  assert.deepEqual(viaPng.labels, [bin.labels[0]]);
});

test('the smoothed deployment answers labels, and PREDICT may abstain (−1)', async () => {
  const { values, labels } = images(16);
  const rs = (await post('/v1/deployments/rs/predict', 'client', binary(values))).json();
  assert.ok(rs.labels.filter((l: number, i: number) => l === labels[i]).length >= 12);
  // A uniform grey image at σ = 0.5 with n = 10: the top two classes are rarely 10:0 apart.
  const grey = new Float32Array(INPUT_SIZE * 8).fill(0.5);
  const cohen = (await post('/v1/deployments/cohen/predict', 'client', binary(grey))).json();
  assert.ok(cohen.labels.every((l: number) => l >= -1 && l < 10));
  assert.ok(cohen.labels.includes(-1), `expected abstentions, got ${cohen.labels}`);
});

test('usage counts queries per input and n forward passes per smoothed query', async () => {
  const fresh = await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { role: 'client', budgets: { rs: 100 } } });
  assert.equal(fresh.statusCode, 201);
  const { id, secret } = fresh.json();
  const headers = { authorization: `Bearer ${secret}` };
  const res = await app.inject({
    method: 'POST',
    url: '/v1/deployments/rs/predict',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    payload: Buffer.from(images(3).values.buffer),
  });
  assert.deepEqual(res.json().usage, { used: 3, limit: 100, remaining: 97 });
  const usage = (await app.inject({ url: '/v1/usage', headers })).json();
  assert.deepEqual(usage.key, { id, role: 'client' });
  const rs = usage.deployments.find((d: { deployment: string }) => d.deployment === 'rs');
  assert.deepEqual(rs, { deployment: 'rs', queries: 3, forwardPasses: 30, rejected: 0, limit: 100, remaining: 97 });
  const plain = usage.deployments.find((d: { deployment: string }) => d.deployment === 'plain');
  assert.equal(plain.limit, null);
});

test('votes: evaluator only, counts per class summing to n, n overridable', async () => {
  const { values } = images(2);
  expectError(await post('/v1/deployments/rs/votes', 'client', binary(values)), 403, /needs the evaluator role/);
  const res = (await post('/v1/deployments/rs/votes?n=200', 'evaluator', binary(values))).json();
  assert.equal(res.n, 200);
  assert.equal(res.sigma, 0.25);
  assert.equal(res.counts.length, 2);
  for (const c of res.counts) {
    assert.equal(c.length, 10);
    assert.equal(
      c.reduce((a: number, b: number) => a + b, 0),
      200,
    );
  }
  const dflt = (await post('/v1/deployments/rs/votes', 'evaluator', binary(values))).json();
  assert.equal(dflt.n, 10);
  expectError(await post('/v1/deployments/rs/votes?n=abc', 'evaluator', binary(values)), 400, /query: n/);
});

test('certify: evaluator only; Clopper-Pearson bound and radius per input', async () => {
  const { values } = images(2);
  const res = await post('/v1/deployments/rs/certify', 'evaluator', json({ inputs: encodeTensorJson(values, [2, 1, 28, 28]), n0: 50, n: 2000, alpha: 0.001 }));
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.n, 2000);
  assert.equal(body.results.length, 2);
  for (const r of body.results) {
    if (r.abstain) assert.equal(r.radius, 0);
    else assert.ok(r.radius > 0 && r.radius <= 0.25 * 3.2 && r.pLower >= 0.5 && r.nA <= 2000);
  }
  const viaQuery = await post('/v1/deployments/rs/certify?n0=10&n=100', 'evaluator', binary(values.subarray(0, INPUT_SIZE)));
  assert.equal(viaQuery.json().n, 100);
  expectError(await post('/v1/deployments/plain/certify', 'evaluator', binary(values)), 400, /σ = 0/);
  expectError(await post('/v1/deployments/rs/certify', 'client', binary(values)), 403, /evaluator/);
  expectError(await post('/v1/deployments/rs/certify', 'evaluator', json({ inputs: encodeTensorJson(values, [2, 1, 28, 28]), alpha: 2 })), 400, /alpha/);
});

test('authentication: missing, malformed and unknown keys get 401; wrong role 403', async () => {
  const body = binary(images(1).values);
  expectError(await app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', ...body }), 401, /missing Authorization/);
  expectError(
    await app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', headers: { ...body.headers, authorization: 'Basic abc' }, payload: body.payload }),
    401,
    /malformed/,
  );
  expectError(
    await app.inject({
      method: 'POST',
      url: '/v1/deployments/plain/predict',
      headers: { ...body.headers, authorization: 'Bearer wrong-key-0123456789' },
      payload: body.payload,
    }),
    401,
    /unknown API key/,
  );
  expectError(await app.inject({ url: '/v1/admin/keys', headers: auth('evaluator') }), 403, /admin role/);
});

test('bad inputs each get a 4xx that names the problem', async () => {
  const url = '/v1/deployments/plain/predict';
  const one = images(1).values;
  expectError(await post(url, 'client', { headers: { 'content-type': 'text/plain' }, payload: 'hello' }), 415, /application\/octet-stream/);
  expectError(
    await post(url, 'client', { headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(7) }),
    400,
    /multiple of 4 bytes, got 7/,
  );
  expectError(await post(url, 'client', binary(new Float32Array(785))), 400, /785 float32 values, not a whole number of inputs of 784/);
  expectError(await post(url, 'client', { headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(0) }), 400, /empty/);
  const nan = one.slice();
  nan[5] = NaN;
  expectError(await post(url, 'client', binary(nan)), 400, /input 0, element 5 is NaN/);
  const inf = one.slice();
  inf[9] = -Infinity;
  expectError(await post(url, 'client', binary(inf)), 400, /element 9 is -Infinity/);
  const big = new Float32Array(INPUT_SIZE * 2);
  big[INPUT_SIZE + 3] = 1.5;
  expectError(await post(url, 'client', binary(big)), 400, /input 1, element 3 is 1.5, outside the declared range \[0, 1\]/);
  expectError(await post(url, 'client', binary(new Float32Array(INPUT_SIZE * 65))), 413, /65 inputs exceeds .* maximum of 64/);
  expectError(await post(url, 'client', binary(new Float32Array(300_000))), 413, /body/i);
  expectError(await post('/v1/deployments/nope/predict', 'client', binary(one)), 404, /no deployment "nope"/);
  expectError(await post(url, 'client', { headers: { 'content-type': 'application/json' }, payload: '{"inputs": [' }), 400, /JSON/);
  expectError(await post(url, 'client', json({})), 400, /inputs/);
  expectError(
    await post(url, 'client', json({ inputs: { dtype: 'float32', shape: [1, 28, 28], data: float32ToBase64(one) } })),
    400,
    /shape \[1,28,28\] holds 784 values|must be \[batch, 1, 28, 28\]/,
  );
  expectError(await post(url, 'client', json({ inputs: { dtype: 'float32', shape: [1, 1, 28, 28], data: '@@@' } })), 400, /base64/);
  expectError(
    await post(url, 'client', json({ inputs: { dtype: 'float32', shape: [2, 1, 28, 28], data: float32ToBase64(one) } })),
    400,
    /holds 1568 values but data has 784/,
  );
  expectError(await post(url, 'client', { headers: { 'content-type': 'image/png' }, payload: Buffer.from('not a png at all') }), 400, /cannot decode image/);
  expectError(await app.inject({ url: '/v1/nothing', headers: auth('client') }), 404, /no route GET \/v1\/nothing/);
  // The server is still healthy after all that.
  assert.equal((await post(url, 'client', binary(one))).statusCode, 200);
});

test('admin: deployments at runtime, keys, budgets and counters', async () => {
  const add = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: payload as object });
  const created = await add({ id: 'sweep-s015-n50', model: 'fmnist-cnn', sigma: 0.15, n: 50 });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().rule, 'majority');
  const res = (await post('/v1/deployments/sweep-s015-n50/predict', 'client', binary(images(2).values))).json();
  assert.equal(res.labels.length, 2);
  expectError(await add({ id: 'sweep-s015-n50', model: 'fmnist-cnn' }), 409, /already exists/);
  expectError(await add({ id: 'x', model: 'no-such-model' }), 400, /no model "no-such-model"/);
  expectError(await add({ id: 'x', model: 'fmnist-cnn', sigma: -1 }), 400, /sigma/);
  expectError(await add({ id: 'bad id!', model: 'fmnist-cnn' }), 400, /id/);
  expectError(await add({ id: 'in', model: 'imagenet-resnet-missing' }), 400, /no model/);
  const specs = (await app.inject({ url: '/v1/admin/deployments', headers: auth('admin') })).json();
  assert.ok(specs.deployments.some((d: { id: string; sigma: number }) => d.id === 'sweep-s015-n50' && d.sigma === 0.15));
  assert.equal((await app.inject({ method: 'DELETE', url: '/v1/admin/deployments/sweep-s015-n50', headers: auth('admin') })).statusCode, 200);
  expectError(await post('/v1/deployments/sweep-s015-n50/predict', 'client', binary(images(1).values)), 404, /no deployment/);
  expectError(await app.inject({ method: 'DELETE', url: '/v1/admin/deployments/sweep-s015-n50', headers: auth('admin') }), 404, /no deployment/);

  const key = (await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { id: 'red-team', role: 'client' } })).json();
  assert.match(key.secret, /^rsa_/);
  const keys = (await app.inject({ url: '/v1/admin/keys', headers: auth('admin') })).json().keys;
  assert.ok(keys.every((k: Record<string, unknown>) => !('secret' in k) && !('digest' in k)));
  const set = await app.inject({ method: 'PUT', url: '/v1/admin/keys/red-team/budgets', headers: auth('admin'), payload: { deployment: 'plain', limit: 1 } });
  assert.deepEqual(set.json().budgets, { plain: 1 });
  const h = { authorization: `Bearer ${key.secret}`, 'content-type': 'application/octet-stream' };
  const payload = Buffer.from(images(1).values.buffer);
  assert.equal((await app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', headers: h, payload })).statusCode, 200);
  assert.equal((await app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', headers: h, payload })).statusCode, 429);
  const reset = await app.inject({ method: 'POST', url: '/v1/admin/usage/reset', headers: auth('admin'), payload: { key: 'red-team' } });
  assert.equal(reset.json().reset, 1);
  assert.equal((await app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', headers: h, payload })).statusCode, 200);
  const all = (await app.inject({ url: '/v1/admin/usage', headers: auth('admin') })).json();
  assert.ok(all.keys.some((k: { key: { id: string } }) => k.key.id === 'red-team'));
  assert.equal((await app.inject({ method: 'DELETE', url: '/v1/admin/keys/red-team', headers: auth('admin') })).statusCode, 200);
  assert.equal((await app.inject({ method: 'POST', url: '/v1/deployments/plain/predict', headers: h, payload })).statusCode, 401);
});

test('metrics expose queries, forward passes, rejections and latency per deployment', async () => {
  const text = (await app.inject('/metrics')).body;
  assert.match(text, /# TYPE rs_arena_queries_total counter/);
  assert.match(text, /rs_arena_forward_passes_total\{deployment="rs"\} \d+/);
  assert.match(text, /rs_arena_budget_rejections_total\{.*deployment="plain".*\} 1/);
  assert.match(text, /rs_arena_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/);
});

test("the metrics' model runs hold every forward pass of the model's deployments, in fewer runs", async () => {
  // 'rs' (n = 10) and 'hidden' (n = 5) share fmnist-cnn-randtrain and so its scheduler.
  const batch = binary(images(3).values);
  for (const id of ['rs', 'hidden']) {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/deployments/${id}/predict`,
      headers: { ...auth('client'), ...batch.headers },
      payload: batch.payload,
    });
    assert.equal(res.statusCode, 200, res.body);
  }
  const text = (await app.inject({ url: '/metrics', headers: auth('admin') })).body;
  const series = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  const passes = series('rs_arena_forward_passes_total\\{deployment="rs"\\}') + series('rs_arena_forward_passes_total\\{deployment="hidden"\\}');
  const copies = series('rs_arena_model_run_copies_total\\{model="fmnist-cnn-randtrain"\\}');
  const runs = series('rs_arena_model_runs_total\\{model="fmnist-cnn-randtrain"\\}');
  assert.ok(passes >= 3 * 10 + 3 * 5, text);
  assert.equal(copies, passes);
  assert.ok(runs >= 1 && runs < copies, `${runs} runs for ${copies} copies`);
  assert.doesNotMatch((await app.inject('/metrics')).body, /rs_arena_model_run/);
  // A deployment without noise ('plain', defense none) calls its model directly: not a scheduled run.
  const cnnCopies = async () =>
    Number(/^rs_arena_model_run_copies_total\{model="fmnist-cnn"\} (\d+)$/m.exec((await app.inject({ url: '/metrics', headers: auth('admin') })).body)?.[1]);
  const before = await cnnCopies();
  assert.ok(Number.isFinite(before), 'fmnist-cnn (loaded for plain and cohen) has its series');
  const plain = await app.inject({
    method: 'POST',
    url: '/v1/deployments/plain/predict',
    headers: { ...auth('client'), ...batch.headers },
    payload: batch.payload,
  });
  assert.equal(plain.statusCode, 200);
  assert.equal(await cnnCopies(), before);
});

test('a deployment advertises a maxBatch that fits the body limit, and enforces it', async () => {
  // 40,000 bytes hold 12 Fashion-MNIST inputs of 3,136 bytes (with the 5% margin: 12).
  const small = await testApp({ bodyLimitBytes: 40_000 });
  try {
    const info = (await small.inject({ url: '/v1/deployments/plain', headers: auth('client') })).json();
    assert.equal(info.maxBatch, 12);
    const ok = await small.inject({
      method: 'POST',
      url: '/v1/deployments/plain/predict',
      headers: { ...auth('client'), ...binary(images(12).values).headers },
      payload: binary(images(12).values).payload,
    });
    assert.equal(ok.statusCode, 200);
    const over = await small.inject({
      method: 'POST',
      url: '/v1/deployments/plain/predict',
      headers: { ...auth('client'), ...binary(images(13).values).headers },
      payload: binary(images(13).values).payload,
    });
    assert.equal(over.statusCode, 413);
  } finally {
    await small.close();
  }
});
