// Confidence-gated noise served by the app, with the noise-trained model voting below τ: a
// deployment names a second served model (`smoothingModel`), which is loaded beside its own, and
// clean accuracy stays near the undefended model's where RS with the standard model loses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { auth, binary, images, testApp } from '../../helpers/app.js';

const add = (app: FastifyInstance, spec: object) => app.inject({ method: 'POST', url: '/v1/admin/deployments', headers: auth('admin'), payload: spec });

async function accuracy(app: FastifyInstance, id: string, count: number): Promise<{ correct: number }> {
  const { values, labels } = images(count);
  let correct = 0;
  for (let at = 0; at < count; at += 50) {
    const body = binary(values.subarray(at * 784, Math.min(count, at + 50) * 784));
    const r = await app.inject({
      method: 'POST',
      url: `/v1/deployments/${id}/predict`,
      payload: body.payload,
      headers: { ...body.headers, ...auth('client') },
    });
    assert.equal(r.statusCode, 200, r.body);
    const answer = r.json();
    answer.labels.forEach((l: number, i: number) => (correct += Number(l === labels[at + i])));
  }
  return { correct };
}

test('gated noise with smoothingModel: the noise-trained model votes below τ, and clean accuracy stays within 5 points of the undefended model', {
  timeout: 120_000,
}, async () => {
  const app = await testApp();
  try {
    const gated = { model: 'fmnist-cnn', defense: [{ name: 'gated', tau: 0.9, sigma: 0.25, n: 20, seed: 4 }], disclose: true };
    assert.equal((await add(app, { id: 'gated-own', ...gated })).statusCode, 201);
    const created = await add(app, { id: 'gated-randtrain', ...gated, defense: [{ ...gated.defense[0], smoothingModel: 'fmnist-cnn-randtrain' }] });
    assert.equal(created.statusCode, 201, created.body);
    const info = (await app.inject({ url: '/v1/deployments/gated-randtrain', headers: auth('client') })).json();
    assert.equal(info.stages[0].settings.smoothingModel, 'fmnist-cnn-randtrain', 'a disclosed deployment shows which model smooths');
    const count = 300;
    const plain = await accuracy(app, 'plain', count);
    const own = await accuracy(app, 'gated-own', count);
    const randtrain = await accuracy(app, 'gated-randtrain', count);
    assert.ok(
      randtrain.correct >= plain.correct - 0.05 * count,
      `gated with the noise-trained model: ${randtrain.correct} of ${count} vs undefended ${plain.correct}`,
    );
    assert.ok(randtrain.correct > own.correct, `the noise-trained model does better below τ than the standard one (${randtrain.correct} vs ${own.correct})`);

    // An unknown smoothing model: a 400 naming it, nothing created.
    const bad = await add(app, { id: 'gated-bad', ...gated, defense: [{ ...gated.defense[0], smoothingModel: 'fmnist-cnn-randtrian' }] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /no model "fmnist-cnn-randtrian"/);
    assert.equal((await app.inject({ url: '/v1/deployments/gated-bad', headers: auth('client') })).statusCode, 404);
  } finally {
    await app.close();
  }
});
