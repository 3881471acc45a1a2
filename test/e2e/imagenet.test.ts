// The server with the real ImageNet classifiers (MobileNetV2 int8, SqueezeNet 1.1) from
// ../shared/imagenet: normalization from the manifest after the noise, JPEG uploads preprocessed
// like the reference, and a clear report when an external model is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../server/src/app.js';
import { parseConfig } from '../../server/src/config.js';
import { loadCatalog, findModel, resolveModel } from '@rs-arena/shared/catalog';
import { IMAGENET_DIR, SKIP_IMAGENET } from '../helpers/imagenet.js';

const KEY = 'imagenet-test-key-0123456789';

test('external models: reported missing with how to get them', () => {
  const saved = process.env.RS_ARENA_IMAGENET_DIR;
  process.env.RS_ARENA_IMAGENET_DIR = mkdtempSync(join(tmpdir(), 'no-imagenet-'));
  try {
    const catalog = loadCatalog();
    const r = resolveModel(catalog, findModel(catalog, 'imagenet-mobilenetv2-int8')!);
    assert.equal(r.status, 'missing');
    assert.match(r.problem!, /is missing \(external model: run models\/scripts\/fetch-imagenet-models\.sh/);
  } finally {
    if (saved === undefined) delete process.env.RS_ARENA_IMAGENET_DIR;
    else process.env.RS_ARENA_IMAGENET_DIR = saved;
  }
});

test('ImageNet JPEG uploads match the reference predictions; RS runs at ImageNet size', { skip: SKIP_IMAGENET, timeout: 120_000 }, async () => {
  process.env.RS_ARENA_IMAGENET_DIR = IMAGENET_DIR;
  const config = parseConfig(
    {
      logLevel: 'silent',
      deployments: [
        { id: 'mnv2', model: 'imagenet-mobilenetv2-int8', sigma: 0, maxBatch: 8 },
        { id: 'squeeze', model: 'imagenet-squeezenet1.1', sigma: 0 },
        { id: 'mnv2-rs', model: 'imagenet-mobilenetv2-int8', sigma: 0.05, n: 8, batchSize: 8, seed: 3 },
      ],
    },
    'test',
  );
  config.envKeys = [{ id: 'ev', role: 'evaluator', secret: KEY, budgets: {} }];
  const app = await buildApp(config, { logger: false });
  try {
    const info = (await app.inject({ url: '/v1/deployments/mnv2', headers: { authorization: `Bearer ${KEY}` } })).json();
    assert.deepEqual(info.inputShape, [3, 224, 224]);
    assert.equal(info.classNames[0], 'tench');
    const rows = readFileSync(join(IMAGENET_DIR, 'expected_predictions.tsv'), 'utf8').trim().split('\n').slice(1, 13);
    let agree = 0;
    for (const row of rows) {
      const [file, , mnv2Top5, squeezeTop5] = row.split('\t');
      const jpeg = readFileSync(join(IMAGENET_DIR, 'images', file));
      for (const [id, top5] of [['mnv2', mnv2Top5], ['squeeze', squeezeTop5]]) {
        const res = await app.inject({ method: 'POST', url: `/v1/deployments/${id}/predict`, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'image/jpeg' }, payload: jpeg });
        assert.equal(res.statusCode, 200, res.body);
        if (res.json().labels[0] === Number(top5.split(',')[0])) agree++;
      }
    }
    assert.ok(agree >= 23, `${agree}/24 top-1 agree with expected_predictions.tsv`);
    // Smoothing at ImageNet size: 8 noisy copies of a 150,528-value input.
    const jpeg = readFileSync(join(IMAGENET_DIR, 'images', rows[0].split('\t')[0]));
    const votes = await app.inject({ method: 'POST', url: '/v1/deployments/mnv2-rs/votes', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'image/jpeg' }, payload: jpeg });
    const counts: number[] = votes.json().counts[0];
    assert.equal(counts.length, 1000);
    assert.equal(counts.reduce((a, b) => a + b, 0), 8);
  } finally {
    await app.close();
    delete process.env.RS_ARENA_IMAGENET_DIR;
  }
});
