// Secure defaults: a deployment discloses nothing unless asked; answers can carry class names;
// /v2 answers a model's Triton-style config and the caller's own stats.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { DeploymentInfo, PredictResponse } from '@rs-arena/shared/api';
import { ModelConfig, ModelStats } from '@rs-arena/shared/oip';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { auth, images as batch, testApp } from '../../helpers/app.js';

let app: FastifyInstance;
before(async () => {
  app = await testApp();
});
after(async () => {
  await app.close();
});

test('a deployment added without "disclose" shows a client neither its defense, σ, n nor model', async () => {
  const add = await app.inject({
    method: 'POST',
    url: '/v1/admin/deployments',
    headers: auth('admin'),
    payload: { id: 'fresh', model: 'fmnist-cnn', sigma: 0.25, n: 10 },
  });
  assert.equal(add.statusCode, 201, add.body);
  assert.equal(add.json().disclose, false);
  const info = DeploymentInfo.parse((await app.inject({ url: '/v1/deployments/fresh', headers: auth('client') })).json());
  assert.equal(info.smoothing, null);
  assert.equal(info.model, undefined);
  assert.equal(info.defense, undefined);
  const open = DeploymentInfo.parse((await app.inject({ url: '/v1/deployments/rs', headers: auth('client') })).json());
  assert.deepEqual([open.smoothing?.sigma, open.smoothing?.n], [0.25, 10], 'disclose: true still discloses');
});

test('predict answers class names with ?classNames=true, and refuses a malformed flag before charging', async () => {
  const { values, labels } = batch(3);
  const post = (query: string) =>
    app.inject({
      method: 'POST',
      url: `/v1/deployments/plain/predict${query}`,
      headers: { ...auth('client'), 'content-type': 'application/octet-stream' },
      payload: Buffer.from(float32ToBytes(values)),
    });
  const named = PredictResponse.parse((await post('?classNames=true')).json());
  const names = DeploymentInfo.parse((await app.inject({ url: '/v1/deployments/plain', headers: auth('client') })).json()).classNames;
  assert.deepEqual(
    named.classNames,
    named.labels.map((l) => names[l]),
  );
  assert.deepEqual(named.labels, Array.from(labels), 'the shipped sample is answered correctly by the plain CNN');
  assert.equal(PredictResponse.parse((await post('')).json()).classNames, undefined);
  const used = named.usage.used;
  const bad = await post('?classNames=yes');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /classNames/);
  const typo = await post('?classname=true');
  assert.equal(typo.statusCode, 400);
  assert.match(typo.json().message, /classname: unknown field \(did you mean "classNames"\?\)/);
  assert.equal(PredictResponse.parse((await post('')).json()).usage.used, used + 3 + 3, 'the refused requests charged nothing');
});

test("/v2/models/{m}/config and /stats: Triton-style, nothing about σ, n or the base model; stats are the caller's own", async () => {
  const config = ModelConfig.parse((await app.inject({ url: '/v2/models/hidden/config', headers: auth('client') })).json());
  assert.deepEqual(config.input, [{ name: 'input', data_type: 'TYPE_FP32', dims: [1, 28, 28] }]);
  assert.equal(config.parameters?.classes, 10);
  assert.doesNotMatch(JSON.stringify(config), /randtrain|sigma|0\.25/);
  const stats = (key: 'client' | 'evaluator') =>
    app.inject({ url: '/v2/models/plain/versions/1/stats', headers: auth(key) }).then((r) => ModelStats.parse(r.json()));
  const before = (await stats('client')).model_stats[0].inference_count;
  const { values } = batch(2);
  await app.inject({
    method: 'POST',
    url: '/v1/deployments/plain/predict',
    headers: { ...auth('client'), 'content-type': 'application/octet-stream' },
    payload: Buffer.from(float32ToBytes(values)),
  });
  assert.equal((await stats('client')).model_stats[0].inference_count, before + 2);
  assert.equal((await app.inject({ url: '/v2/models/nope/config', headers: auth('client') })).statusCode, 404);
  assert.equal((await app.inject({ url: '/v2/models/plain/config' })).statusCode, 401);
});
