// What an attacker from outside tried (issue 10): prototype names as ids, loose numbers, images
// that are not what they say or declare huge sizes, undisclosed settings read from usage, metrics
// or readiness, oversized compute. Each gets a 4xx naming it, and nothing is charged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { encodeTensorJson } from '@rs-arena/shared/tensor';
import { tensorToPng } from '@rs-arena/shared/image';
import { auth, binary, images, testApp, TEST_DEPLOYMENTS, KEYS } from '../../helpers/app.js';
import { jpegBomb, otherFormats } from '../../helpers/hostile.js';
import { sha256Hex } from '../../../server/src/auth.js';

const METRICS_KEY = 'metrics-key-0123456789abcdef';
let app: FastifyInstance;
before(async () => {
  app = await testApp(
    {
      deployments: [
        ...TEST_DEPLOYMENTS,
        // Prototype names are valid ids: they must be found and budgeted like any other.
        { id: 'toString', model: 'fmnist-cnn', disclose: true },
        { id: 'constructor', model: 'fmnist-cnn', sigma: 0.25, n: 4, seed: 3 },
        // The only deployment of the AdvTrain model, undisclosed: its model must not show anywhere.
        { id: 'secret', model: 'fmnist-cnn-advtrain', defense: 'gaussian', sigma: 0.3, n: 7, disclose: false, maxBatch: 16 },
      ],
      metricsKey: sha256Hex(METRICS_KEY),
    },
    3,
  );
});
after(() => app.close());

type Res = { statusCode: number; body: string; json: () => { error: string; message: string } };
function expectError(res: Res, status: number, message: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.json().message, message);
}
const post = (url: string, role: keyof typeof KEYS, headers: Record<string, string>, payload: string | Buffer) =>
  app.inject({ method: 'POST', url, headers: { ...auth(role), ...headers }, payload });
const json = { 'content-type': 'application/json' };
const usageOf = async (role: keyof typeof KEYS, deployment: string) =>
  (await app.inject({ url: '/v1/usage', headers: auth(role) })).json().deployments.find((d: { deployment: string }) => d.deployment === deployment);

test('deployments named after Object.prototype members are found and budgeted', async () => {
  const one = binary(images(1).values);
  for (const id of ['toString', 'constructor']) {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await post(`/v1/deployments/${id}/predict`, 'client', one.headers, one.payload)).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 429], `${id}: the client budget of 3 holds`);
    assert.equal((await usageOf('client', id)).queries, 3);
  }
  for (const id of ['valueOf', '__proto__', 'hasOwnProperty']) {
    expectError(await post(`/v1/deployments/${id}/predict`, 'client', one.headers, one.payload), 404, /no deployment/);
  }
});

test('query-string integers are digits only; JSON numbers are numbers; alpha is in (0, 0.5]', async () => {
  const one = binary(images(1).values);
  for (const n of ['0x10', '1e2', '-5', '1.5', '', ' 16', '16abc', 'NaN', 'Infinity', '99999999999999999999']) {
    expectError(await post(`/v1/deployments/rs/votes?n=${encodeURIComponent(n)}`, 'evaluator', one.headers, one.payload), 400, /query: n/);
  }
  expectError(await post('/v1/deployments/rs/votes?n=16&n=16', 'evaluator', one.headers, one.payload), 400, /query: n/);
  assert.equal((await post('/v1/deployments/rs/votes?n=16', 'evaluator', one.headers, one.payload)).json().n, 16);

  const inputs = encodeTensorJson(images(1).values, [1, 1, 28, 28]);
  const certify = (params: object) => post('/v1/deployments/rs/certify', 'evaluator', json, JSON.stringify({ inputs, ...params }));
  expectError(await certify({ n: [20] }), 400, /body: n/);
  expectError(await certify({ n: '20' }), 400, /body: n/);
  expectError(await certify({ alpha: '0.01' }), 400, /body: alpha/);
  expectError(await certify({ n0: 10.5 }), 400, /body: n0/);
  expectError(await certify({ n0: 10, n: 20, alpha: 0.99 }), 400, /body: alpha/);
  expectError(await certify({ n0: 10, n: 20, alpha: 0 }), 400, /body: alpha/);
  const half = await certify({ n0: 10, n: 20, alpha: 0.5 });
  assert.equal(half.statusCode, 200, half.body);
  assert.equal(half.json().results[0].radius >= 0, true);
  const viaQuery = await post('/v1/deployments/rs/certify?n0=10&n=20&alpha=0.01', 'evaluator', one.headers, one.payload);
  assert.equal(viaQuery.json().alpha, 0.01);
  expectError(await post('/v1/deployments/rs/certify?alpha=0.6', 'evaluator', one.headers, one.payload), 400, /query: alpha/);
  expectError(await post('/v1/deployments/rs/certify?n=0x10', 'evaluator', one.headers, one.payload), 400, /query: n/);
  const spent = await usageOf('evaluator', 'rs');
  assert.equal(spent.queries, 1 + 1 + 1, 'only the three answered requests were charged');
});

test('images: empty, of another format than declared, or declaring huge sizes get 4xx before decoding', async () => {
  const url = '/v1/deployments/plain/predict';
  for (const type of ['image/png', 'image/jpeg']) {
    expectError(await post(url, 'client', { 'content-type': type }, Buffer.alloc(0)), 400, /empty/);
  }
  const formats = await otherFormats();
  for (const [name, body] of Object.entries(formats)) {
    if (name === 'jpeg') continue;
    const res = await post(url, 'client', { 'content-type': 'image/png' }, body);
    assert.equal(res.statusCode, 415, `${name} sent as image/png: ${res.body}`);
    assert.match(res.json().message, /not the declared png/);
  }
  expectError(await post(url, 'client', { 'content-type': 'image/png' }, formats.jpeg), 415, /a jpeg image, not the declared png/);
  const png = await tensorToPng(images(1).values, [1, 28, 28]);
  expectError(await post(url, 'client', { 'content-type': 'image/jpeg' }, png), 415, /a png image, not the declared jpeg/);
  assert.equal((await post(url, 'client', { 'content-type': 'image/jpeg' }, formats.jpeg)).statusCode, 200);

  const bomb = await jpegBomb(16000, 16000);
  assert.ok(bomb.length < 1024);
  const started = performance.now();
  const res = await post(url, 'client', { 'content-type': 'image/jpeg' }, bomb);
  const ms = performance.now() - started;
  expectError(res, 400, /declares 16000×16000 pixels; at most 2048 per side/);
  assert.ok(ms < 500, `refused in ${ms.toFixed(0)} ms`);
  expectError(await post(url, 'client', { 'content-type': 'image/jpeg' }, await jpegBomb(2000, 100)), 400, /more than 16:1 apart/);
  assert.equal((await usageOf('client', 'plain')).queries, 1, 'only the one valid JPEG was charged');
});

test('an undisclosed deployment: no model, σ or n in its info, usage, readiness or public metrics', async () => {
  const one = binary(images(2).values);
  assert.equal((await post('/v1/deployments/secret/predict', 'client', one.headers, one.payload)).statusCode, 200);
  const info = (await app.inject({ url: '/v1/deployments/secret', headers: auth('client') })).json();
  assert.equal(info.smoothing, null);
  assert.equal(info.model, undefined);
  assert.equal(info.defense, undefined);
  const disclosed = (await app.inject({ url: '/v1/deployments/rs', headers: auth('client') })).json();
  assert.deepEqual([disclosed.model, disclosed.defense], ['fmnist-cnn-randtrain', 'gaussian']);

  const mine = await usageOf('client', 'secret');
  assert.equal(mine.queries, 2);
  assert.equal('forwardPasses' in mine, false, 'forward passes ÷ queries would be n');
  assert.equal((await usageOf('client', 'rs')).forwardPasses !== undefined, true);
  const admin = (await app.inject({ url: '/v1/admin/usage', headers: auth('admin') })).json();
  const client = admin.keys.find((k: { key: { id: string } }) => k.key.id === 'client');
  assert.equal(client.deployments.find((d: { deployment: string }) => d.deployment === 'secret').forwardPasses, 14);

  const ready = await app.inject('/readyz');
  assert.ok(!ready.body.includes('advtrain'), ready.body);
  const open = (await app.inject('/metrics')).body;
  assert.ok(!open.includes('secret'), 'no series of the undisclosed deployment');
  assert.match(open, /rs_arena_queries_total\{deployment="toString",route="predict"\} 3/);
  assert.match(open, /rs_arena_process_resident_memory_bytes \d+/);
  assert.match(open, /rs_arena_http_requests_total\{route="\/v1\/deployments\/:id\/predict",status="200"\}/);
  for (const key of [METRICS_KEY, KEYS.admin]) {
    const full = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${key}` } });
    assert.match(full.body, /rs_arena_forward_passes_total\{deployment="secret"\} 14/);
  }
  expectError(await app.inject({ url: '/metrics', headers: auth('client') }), 403, /admin role/);
  expectError(await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope-nope-nope-nope' } }), 401, /unknown API key/);
});

test('defenses: named in the spec, inferred from σ for old specs, checked, and asked what they can do', async () => {
  const add = (payload: object) => app.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload });
  expectError(await add({ id: 'd1', model: 'fmnist-cnn', defense: 'laplace', sigma: 0.1 }), 400, /unknown defense "laplace" \(known: none, gaussian, /);
  expectError(await add({ id: 'd2', model: 'fmnist-cnn', defense: 'none', sigma: 0.1 }), 400, /"none" adds no noise/);
  expectError(await add({ id: 'd3', model: 'fmnist-cnn', defense: 'gaussian' }), 400, /defense "gaussian": sigma: needs sigma > 0/);
  const named = await add({ id: 'd4', model: 'fmnist-cnn', defense: 'none', disclose: true });
  assert.equal(named.statusCode, 201, named.body);
  const list = (await app.inject({ url: '/v1/deployments', headers: auth('client') })).json().deployments;
  const defenseOf = (id: string) => list.find((d: { id: string }) => d.id === id).defense;
  assert.deepEqual(['plain', 'rs', 'cohen', 'd4'].map(defenseOf), ['none', 'gaussian', 'gaussian', 'none']);

  const one = binary(images(1).values);
  expectError(await post('/v1/deployments/d4/certify', 'evaluator', one.headers, one.payload), 400, /defense "none".*does not support certify/);
  const votes = (await post('/v1/deployments/d4/votes?n=9', 'evaluator', one.headers, one.payload)).json();
  assert.deepEqual([votes.sigma, votes.counts[0].reduce((a: number, b: number) => a + b, 0)], [0, 9]);
  assert.equal((await usageOf('evaluator', 'd4')).forwardPasses, 1, 'the undefended model: one pass whatever n');
});

test('forward passes per request are capped per role; an undisclosed deployment cannot be capped silently', async () => {
  const capped = await testApp({ maxForwardPasses: { client: 6000, evaluator: 1000 } });
  try {
    const info = (await capped.inject({ url: '/v1/deployments/rs', headers: auth('client') })).json();
    assert.equal(info.maxBatch, 64, "the spec's own maxBatch");
    const cohen = (await capped.inject({ url: '/v1/deployments/cohen', headers: auth('client') })).json();
    assert.equal(cohen.maxBatch, 600, 'n = 10: 6000 passes hold 600 inputs');
    const one = binary(images(2).values);
    const res = await capped.inject({
      method: 'POST',
      url: '/v1/deployments/rs/votes?n=600',
      headers: { ...auth('evaluator'), ...one.headers },
      payload: one.payload,
    });
    expectError(res, 413, /evaluator role's cap of forward passes per request: it needs 1200/);
    const usage = (await capped.inject({ url: '/v1/usage', headers: auth('evaluator') }))
      .json()
      .deployments.find((d: { deployment: string }) => d.deployment === 'rs');
    assert.equal(usage.queries, 0);
    const hidden = await capped.inject({
      method: 'POST',
      url: '/v1/admin/deployments',
      headers: auth('admin'),
      payload: { id: 'h', model: 'fmnist-cnn', sigma: 0.2, n: 100, disclose: false, maxBatch: 100 },
    });
    expectError(hidden, 400, /lower maxBatch to 60 or less/);
  } finally {
    await capped.close();
  }
});

test('a huge batchSize is chunked to the noise cap instead of failing', async () => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/admin/deployments',
    headers: auth('admin'),
    payload: { id: 'wide', model: 'fmnist-cnn', sigma: 0.2, n: 100, batchSize: 4096, seed: 5 },
  });
  assert.equal(res.statusCode, 201, res.body);
  const batch = binary(images(48).values);
  const answer = await post('/v1/deployments/wide/predict', 'admin', batch.headers, batch.payload);
  assert.equal(answer.statusCode, 200, answer.body);
  assert.equal(answer.json().labels.length, 48);
});
