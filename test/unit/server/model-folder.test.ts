// Model folders: an ONNX file in <models dir>/<id>/ is a model, its names, shape and classes read
// from the file; its config is strict; a changed file is refused against the recorded sha256;
// the admin API adds one at run time and serves the deployments its config declares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODELS_DIR, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { addModelFolders, loadModelFolder } from '../../../server/src/model-folder.js';
import { buildApp } from '../../../server/src/app.js';
import { parseConfig } from '../../../server/src/config.js';

const folder = (dir: string, id: string, config?: unknown) => {
  mkdirSync(join(dir, id), { recursive: true });
  copyFileSync(join(DEFAULT_MODELS_DIR, 'fmnist-cnn.onnx'), join(dir, id, 'model.onnx'));
  if (config !== undefined) writeFileSync(join(dir, id, 'config.json'), JSON.stringify(config));
};

test('a folder with an ONNX file is a model: names, shape and classes from the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-folders-'));
  folder(dir, 'mine');
  const catalog = loadCatalog(dir);
  assert.deepEqual(catalog.manifest.models, [], 'no manifest.json needed');
  const [m] = await addModelFolders(catalog);
  assert.deepEqual(m.entry.input, { name: 'input', shape: [1, 28, 28], range: [0, 1], normalization: null });
  assert.deepEqual(m.entry.output, { name: 'logits', classes: 10 });
  assert.equal(m.sha256, loadCatalog().manifest.models.find((e) => e.id === 'fmnist-cnn')!.sha256, 'the same file, the same sha256 as the manifest pins');
  assert.equal(resolveModel(catalog, m.entry).status, 'ok');
});

test('a model config is strict, its labels must exist, and a recorded sha256 pins the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-folders-'));
  folder(dir, 'typo', { lables: 'labels.txt' });
  await assert.rejects(loadModelFolder(loadCatalog(dir), 'typo'), /typo\/config\.json: lables: unknown field \(did you mean "labels"\?\)/);
  folder(dir, 'nolabels', { labels: 'labels.txt' });
  await assert.rejects(loadModelFolder(loadCatalog(dir), 'nolabels'), /labels file .*labels\.txt does not exist/);
  folder(dir, 'pinned', { sha256: 'a'.repeat(64) });
  const pinned = await loadModelFolder(loadCatalog(dir), 'pinned');
  const catalog = loadCatalog(dir);
  assert.equal(resolveModel(catalog, pinned.entry).status, 'checksum-mismatch');
  folder(dir, 'deploy', { deployments: [{ id: 'd', sigam: 0.25 }] });
  await assert.rejects(loadModelFolder(loadCatalog(dir), 'deploy'), /deployments\.0\.sigam: unknown field \(did you mean "sigma"\?\)/);
});

test('POST /v1/admin/models loads a folder dropped in while the server runs, and serves its deployments', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-folders-'));
  const config = parseConfig({ logLevel: 'silent', modelsDir: dir }, 'test');
  config.envKeys = [{ id: 'admin', role: 'admin', secret: 'folder-admin-key-0123456789', budgets: {} }];
  const app = await buildApp(config, { logger: false });
  const auth = { authorization: 'Bearer folder-admin-key-0123456789' };
  try {
    folder(dir, 'late', { deployments: [{ id: 'late-rs', sigma: 0.25, n: 5, seed: 1 }] });
    writeFileSync(join(dir, 'late', 'labels.txt'), Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n'));
    const add = await app.inject({ method: 'POST', url: '/v1/admin/models', headers: auth, payload: { id: 'late' } });
    assert.equal(add.statusCode, 201, add.body);
    assert.deepEqual(add.json().deployments, ['late-rs']);
    assert.equal(add.json().model.output.classes, 10);
    const again = await app.inject({ method: 'POST', url: '/v1/admin/models', headers: auth, payload: { id: 'late' } });
    assert.equal(again.statusCode, 409);
    const missing = await app.inject({ method: 'POST', url: '/v1/admin/models', headers: auth, payload: { id: 'nope' } });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().message, /no model folder/);
    const list = (await app.inject({ url: '/v1/admin/models', headers: auth })).json().models;
    assert.deepEqual(
      list.map((m: { id: string }) => m.id),
      ['late'],
    );
    const info = await app.inject({ url: '/v1/deployments/late-rs', headers: auth });
    assert.equal(info.statusCode, 200);
  } finally {
    await app.close();
  }
});
