// A deployment whose base model runs on a remote Open Inference Protocol server: a second rs-arena
// (listening on loopback, behind a path-prefixed gateway with its own auth header) serving the
// undefended model over /v2, and a Triton-like server answering class scores. Same seed, same noise:
// the remote deployment answers predict, votes and certify exactly as the local one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../server/src/app.js';
import { KEYS, auth, binary, images, testConfig } from '../../helpers/app.js';
import { gateway, tritonLike, type Listening } from '../../helpers/oip-servers.js';

let remote: FastifyInstance;
let gw: Listening & { posts: () => number };
let triton: Listening & { inferences: () => number };
let front: FastifyInstance;
let remoteUrl: string;

const RS = { model: 'fmnist-cnn', sigma: 0.25, n: 20, seed: 7, batchSize: 64, disclose: true };

before(async () => {
  // The remote: the undefended model, accepting the noisy copies' out-of-range values.
  remote = await buildApp(testConfig({ deployments: [{ id: 'plain', model: 'fmnist-cnn', maxBatch: 64, inputRange: 'any-finite' }] }), { logger: false });
  const base = await remote.listen({ port: 0, host: '127.0.0.1' });
  remoteUrl = base;
  gw = await gateway({ upstream: base, prefix: '/serving/v2-models', apiKey: 'remote-secret', bearer: KEYS.client });
  triton = await tritonLike();
  const viaGateway = { url: gw.url, model: 'plain', headers: { 'x-api-key': 'remote-secret' }, maxBatch: 16, concurrency: 4 };
  front = await buildApp(
    testConfig({
      deployments: [
        { id: 'local', ...RS },
        { id: 'remote', ...RS, remote: viaGateway },
        { id: 'triton', ...RS, remote: { url: triton.url, model: 'fmnist', maxBatch: 24 } },
        { id: 'plain-remote', model: 'fmnist-cnn', remote: viaGateway },
      ],
    }),
    { logger: false },
  );
});
after(async () => {
  await front?.close();
  await gw?.close();
  await triton?.close();
  await remote?.close();
});

const post = (deployment: string, route: string, values: Float32Array, role: 'client' | 'evaluator' = 'client', query = '') => {
  const body = binary(values);
  return front.inject({
    method: 'POST',
    url: `/v1/deployments/${deployment}/${route}${query}`,
    headers: { ...auth(role), ...body.headers },
    payload: body.payload,
  });
};

async function usage(app: FastifyInstance, deployment: string) {
  const res = await app.inject({ method: 'GET', url: '/v1/usage', headers: auth('client') });
  return (res.json().deployments as { deployment: string; queries: number; forwardPasses: number }[]).find((d) => d.deployment === deployment)!;
}

test('a seeded deployment on a remote base model answers predict, votes and certify exactly as the local one', { timeout: 120_000 }, async () => {
  const { values } = images(12, 100);
  const remoteBefore = (await usage(remote, 'plain')).queries;
  const answers: Record<string, unknown[]> = {};
  for (const id of ['local', 'remote', 'triton']) {
    const predict = await post(id, 'predict', values);
    assert.equal(predict.statusCode, 200, predict.body);
    const votes = await post(id, 'votes', values.subarray(0, 3 * 784), 'evaluator', '?n=50');
    assert.equal(votes.statusCode, 200, votes.body);
    const certify = await post(id, 'certify', values.subarray(0, 784), 'evaluator', '?n0=20&n=200&alpha=0.01');
    assert.equal(certify.statusCode, 200, certify.body);
    answers[id] = [predict.json().labels, votes.json().counts, certify.json().results];
  }
  assert.deepEqual(answers.remote, answers.local);
  assert.deepEqual(answers.triton, answers.local);
  // Every noisy copy the front made was one query on the remote.
  const passes = 12 * 20 + 3 * 50 + 20 + 200;
  assert.equal((await usage(front, 'remote')).forwardPasses, 12 * 20);
  assert.equal((await usage(remote, 'plain')).queries - remoteBefore, passes);
  assert.equal(triton.inferences() - 1, passes, 'plus the one test forward pass at load');
});

test('an undefended remote deployment is the remote model, over /v1 and /v2 alike', async () => {
  const { values } = images(40);
  const local = await remote.inject({
    method: 'POST',
    url: '/v1/deployments/plain/predict',
    headers: { ...auth('client'), ...binary(values).headers },
    payload: binary(values).payload,
  });
  const viaFront = await post('plain-remote', 'predict', values);
  assert.deepEqual(viaFront.json().labels, local.json().labels);
  const v2 = await front.inject({
    method: 'POST',
    url: '/v2/models/plain-remote/infer',
    headers: auth('client'),
    payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [40, 1, 28, 28], data: Array.from(values) }] },
  });
  assert.deepEqual(v2.json().outputs[0].data, local.json().labels);
});

test('a remote that cannot serve is a clear 400 when added, a 502 refunded when it fails later', { timeout: 60_000 }, async () => {
  const add = (remoteSpec: object) =>
    front.inject({
      method: 'POST',
      url: '/v1/admin/deployments',
      headers: auth('admin'),
      payload: { id: `bad-${Math.random().toString(36).slice(2, 8)}`, model: 'fmnist-cnn', remote: remoteSpec },
    });
  const unknown = await add({ url: gw.url, model: 'nope', headers: { 'x-api-key': 'remote-secret' } });
  assert.equal(unknown.statusCode, 400);
  assert.match(unknown.json().message, /remote model "nope".*HTTP 404/);
  const noAuth = await add({ url: gw.url, model: 'plain' });
  assert.equal(noAuth.statusCode, 400);
  assert.match(noAuth.json().message, /HTTP 401/);
  const badUrl = await add({ url: 'ftp://example/x', model: 'plain' });
  assert.equal(badUrl.statusCode, 400);
  assert.match(badUrl.json().message, /remote.url/);

  // The remote goes away: the query fails with 502 and is not charged.
  const added = await front.inject({
    method: 'POST',
    url: '/v1/admin/deployments',
    headers: auth('admin'),
    payload: { id: 'flaky', model: 'fmnist-cnn', remote: { url: gw.url, model: 'plain', headers: { 'x-api-key': 'remote-secret' }, retries: 0 } },
  });
  assert.equal(added.statusCode, 201, added.body);
  await gw.close();
  const res = await post('flaky', 'predict', images(2).values);
  assert.equal(res.statusCode, 502, res.body);
  assert.match(res.json().message, /base model's server/);
  assert.equal((await usage(front, 'flaky')).queries, 0);
});

test('gated noise on remote base models: a remote answering scores gates as the local model does; one answering labels is a 400 naming why', {
  timeout: 60_000,
}, async () => {
  const gated = { model: 'fmnist-cnn', defense: [{ name: 'gated', tau: 0.9, sigma: 0.25, n: 10, seed: 3 }], disclose: true };
  const added = async (spec: object) => front.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: spec });
  assert.equal((await added({ id: 'gated-local', ...gated })).statusCode, 201);
  assert.equal((await added({ id: 'gated-triton', ...gated, remote: { url: triton.url, model: 'fmnist', maxBatch: 24 } })).statusCode, 201);
  // The remote rs-arena answers labels only: no scores to gate on.
  const labelsOnly = await added({
    id: 'gated-labels',
    ...gated,
    remote: { url: remoteUrl, model: 'plain', headers: { authorization: `Bearer ${KEYS.client}` } },
  });
  assert.equal(labelsOnly.statusCode, 400);
  assert.match(labelsOnly.json().message, /needs class scores/);
  const { values } = images(24, 100);
  const local = await post('gated-local', 'predict', values);
  const viaTriton = await post('gated-triton', 'predict', values);
  assert.deepEqual(viaTriton.json().labels, local.json().labels, 'same gate, same seeded noise, same answers');
  // Forward passes: one per query plus n for each unsure one; the same on both.
  const [a, b] = [await usage(front, 'gated-local'), await usage(front, 'gated-triton')];
  assert.equal(a.forwardPasses, b.forwardPasses);
  assert.ok(a.forwardPasses >= 24 && a.forwardPasses < 24 * 11, `${a.forwardPasses} passes`);
});
