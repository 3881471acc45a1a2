// Fail closed: every config, manifest, model config, preset and admin body refuses an unknown
// field by name, with a "did you mean" when a known field is close, in one format everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closest, levenshtein } from '../../shared/src/suggest.js';
import { formatZodError } from '../../shared/src/zod-error.js';
import { DeploymentSpec, KeyCreate } from '../../shared/src/api.js';
import { loadCatalog, resolveModel, DEFAULT_MODELS_DIR } from '../../shared/src/catalog.js';
import { loadConfig, parseConfig } from '../../server/src/config.js';
import { loadTuning } from '../../server/src/tuning.js';
import { parsePreset, PRESETS } from '../../client/src/experiments/presets.js';

const dir = mkdtempSync(join(tmpdir(), 'rs-arena-strict-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

test('edit distance counts a swap of two letters as one edit; suggestions only for near names', () => {
  assert.equal(levenshtein('sigam', 'sigma'), 1);
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(levenshtein('', 'abc'), 3);
  assert.equal(closest('sigam', Object.keys(DeploymentSpec.shape)), 'sigma');
  assert.equal(closest('budget', Object.keys(DeploymentSpec.shape)), undefined);
  assert.equal(closest('budgte', ['budget', 'count', 'offset']), 'budget');
  assert.equal(closest('classNamesFiel', ['classNames', 'classNamesFile']), 'classNamesFile');
  assert.equal(closest('x', ['n', 'y']), undefined, 'a one-letter name is never "close"');
});

test('"sigam" in a deployment refuses to start, naming the field and suggesting sigma', () => {
  const path = file('sigam.json', { deployments: [{ id: 'd', model: 'fmnist-cnn', sigam: 0.25, n: 100 }] });
  assert.throws(
    () => loadConfig({ RS_ARENA_CONFIG: path }),
    (err: Error) => {
      assert.equal(err.message, `invalid config ${path}: deployments.0.sigam: unknown field (did you mean "sigma"?)`);
      return true;
    },
  );
  assert.throws(() => parseConfig({ deployments: [{ id: 'd', model: 'fmnist-cnn', budget: 500 }] }, 'x.json'), /deployments\.0\.budget: unknown field$/);
  assert.throws(() => parseConfig({ deployment: [] }, 'x.json'), /deployment: unknown field \(did you mean "deployments"\?\)/);
  assert.throws(() => parseConfig({ idempotency: { ttlSecond: 5 } }, 'x.json'), /idempotency\.ttlSecond: unknown field \(did you mean "ttlSeconds"\?\)/);
  assert.throws(
    () => parseConfig({ keys: [{ id: 'k', role: 'client', sha256: 'a'.repeat(64), budget: {} }] }, 'x.json'),
    /keys\.0\.budget: unknown field \(did you mean "budgets"\?\)/,
  );
  assert.throws(
    () => parseConfig({ deployments: [{ id: 'd', model: 'm', remote: { url: 'http://h:1', model: 'x', header: {} } }] }, 'x.json'),
    /deployments\.0\.remote\.header: unknown field \(did you mean "headers"\?\)/,
  );
});

test('admin bodies and the tuning file are strict too, in the same format', () => {
  const r = KeyCreate.safeParse({ role: 'client', budgest: {} });
  assert.equal(r.success, false);
  assert.equal(formatZodError(r.error!, { schema: KeyCreate }), 'budgest: unknown field (did you mean "budgets"?)');
  assert.throws(
    () => loadTuning(file('tuning.json', { models: { m: { thread: true, threds: 2 } } })),
    /models\.m\.threds: unknown field \(did you mean "threads"\?\)/,
  );
});

test('a manifest with an unknown field, or a classNamesFile that does not exist, is refused by name', () => {
  const models = mkdtempSync(join(tmpdir(), 'rs-arena-manifest-'));
  const manifest = JSON.parse(readFileSync(join(DEFAULT_MODELS_DIR, 'manifest.json'), 'utf8'));
  manifest.models[0].classNamesFiel = 'labels.tsv';
  writeFileSync(join(models, 'manifest.json'), JSON.stringify(manifest));
  assert.throws(() => loadCatalog(models), /models\.0\.classNamesFiel: unknown field \(did you mean "classNamesFile"\?\)/);
  delete manifest.models[0].classNamesFiel;
  delete manifest.models[0].classNames;
  manifest.models[0].classNamesFile = 'lables.tsv';
  writeFileSync(join(models, 'manifest.json'), JSON.stringify(manifest));
  copyFileSync(join(DEFAULT_MODELS_DIR, manifest.models[0].file), join(models, manifest.models[0].file));
  const catalog = loadCatalog(models);
  const resolved = resolveModel(catalog, catalog.manifest.models[0]);
  assert.equal(resolved.status, 'missing');
  assert.match(resolved.problem!, /classNamesFile .*lables\.tsv does not exist/);
});

test('a preset with a misspelt experiment config field names it with a suggestion', () => {
  const smoke = structuredClone(PRESETS.smoke) as Record<string, Record<string, unknown>>;
  smoke.distortion.budgte = smoke.distortion.budget;
  assert.throws(() => parsePreset(smoke, 'x.json'), /x\.json: distortion\.budgte: unknown field \(did you mean "budget"\?\)/);
});

test('an admin body with an unknown field is a 400 naming it, nothing added', async () => {
  const { testApp, auth } = await import('../helpers/app.js');
  const app = await testApp({ deployments: [] });
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/admin/deployments',
      headers: auth('admin'),
      payload: { id: 'x', model: 'fmnist-cnn', sigam: 0.25 },
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: 'invalid_deployment', message: 'invalid deployment: sigam: unknown field (did you mean "sigma"?)' });
    const key = await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { role: 'client', budget: { '*': 5 } } });
    assert.equal(key.statusCode, 400);
    assert.match(key.json().message, /budget: unknown field \(did you mean "budgets"\?\)/);
    assert.deepEqual((await app.inject({ url: '/v1/admin/deployments', headers: auth('admin') })).json(), { deployments: [] });
  } finally {
    await app.close();
  }
});
