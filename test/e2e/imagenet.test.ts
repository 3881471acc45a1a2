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
import { imageToTensor } from '@rs-arena/shared/image';
import { OnnxModel } from '../../server/src/model.js';
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

test('ImageNet JPEG uploads answer what the model answers on the reference preprocessing; RS runs at ImageNet size', {
  skip: SKIP_IMAGENET,
  timeout: 120_000,
}, async () => {
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
    // Each upload must answer exactly what the model answers on the README's preprocessing done
    // here (the int8 model's answers depend on the CPU, so the upload path is checked against the
    // model itself; the fp32 SqueezeNet is also checked against the reference file).
    const catalog = loadCatalog();
    const direct = {
      mnv2: await OnnxModel.load(resolveModel(catalog, findModel(catalog, 'imagenet-mobilenetv2-int8')!), { maxBatch: 1 }),
      squeeze: await OnnxModel.load(resolveModel(catalog, findModel(catalog, 'imagenet-squeezenet1.1')!), { maxBatch: 1 }),
    };
    let same = 0;
    let squeezeAgree = 0;
    try {
      for (const row of rows) {
        const [file, , , squeezeTop5] = row.split('\t');
        const jpeg = readFileSync(join(IMAGENET_DIR, 'images', file));
        const tensor = await imageToTensor(jpeg, { shape: [3, 224, 224], resize: 'crop' });
        for (const id of ['mnv2', 'squeeze'] as const) {
          const res = await app.inject({
            method: 'POST',
            url: `/v1/deployments/${id}/predict`,
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'image/jpeg' },
            payload: jpeg,
          });
          assert.equal(res.statusCode, 200, res.body);
          const label = res.json().labels[0];
          if (label === (await direct[id].predict(tensor, 1))[0]) same++;
          if (id === 'squeeze' && label === Number(squeezeTop5.split(',')[0])) squeezeAgree++;
        }
      }
    } finally {
      await direct.mnv2.close();
      await direct.squeeze.close();
    }
    assert.equal(same, 24, `${same}/24 uploads answer what the model answers on the same preprocessing`);
    assert.equal(squeezeAgree, 12, `${squeezeAgree}/12 SqueezeNet uploads agree with expected_predictions.tsv`);
    // Smoothing at ImageNet size: 8 noisy copies of a 150,528-value input.
    const jpeg = readFileSync(join(IMAGENET_DIR, 'images', rows[0].split('\t')[0]));
    const votes = await app.inject({
      method: 'POST',
      url: '/v1/deployments/mnv2-rs/votes',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'image/jpeg' },
      payload: jpeg,
    });
    const counts: number[] = votes.json().counts[0];
    assert.equal(counts.length, 1000);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      8,
    );
  } finally {
    await app.close();
    delete process.env.RS_ARENA_IMAGENET_DIR;
  }
});
