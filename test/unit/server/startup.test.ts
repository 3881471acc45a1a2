// Configuration, environment overrides, secure-by-default keys and start-up failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../../server/src/app.js';
import { loadConfig, parseConfig, DEFAULT_CONFIG_FILE } from '../../../server/src/config.js';
import { sha256Hex } from '../../../server/src/auth.js';

const dir = mkdtempSync(join(tmpdir(), 'rs-arena-config-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

test('the embedded default config parses and names shipped models', () => {
  const config = loadConfig({});
  assert.ok(config.deployments.length >= 3);
  assert.ok(config.deployments.some((d) => d.sigma === 0.25 && d.n === 100 && d.model === 'fmnist-cnn'));
  assert.ok(config.deployments.some((d) => d.model === 'fmnist-cnn-randtrain'));
  assert.equal(JSON.parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')).keys, undefined, 'no key ships in the default config');
});

test('environment overrides: PORT, HOST, config file and keys with budgets', () => {
  const path = file('c.json', { deployments: [{ id: 'a', model: 'fmnist-cnn' }] });
  const config = loadConfig({
    RS_ARENA_CONFIG: path,
    PORT: '9123',
    HOST: '0.0.0.0',
    RS_ARENA_ADMIN_KEY: 'admin-key-0123456789abc',
    RS_ARENA_CLIENT_KEY: 'client-key-0123456789abc',
    RS_ARENA_CLIENT_BUDGET: '500',
  });
  assert.equal(config.port, 9123);
  assert.equal(config.host, '0.0.0.0');
  assert.deepEqual(
    config.deployments.map((d) => d.id),
    ['a'],
  );
  assert.deepEqual(
    config.envKeys?.map((k) => [k.role, k.budgets]),
    [
      ['admin', {}],
      ['client', { '*': 500 }],
    ],
  );
});

test('limits and the metrics key come from the config file or the environment', () => {
  const config = loadConfig({
    RS_ARENA_CONFIG: file('limits.json', { requestTimeoutMs: 5000, maxForwardPasses: { client: 1000 } }),
    RS_ARENA_METRICS_KEY: 'metrics-secret-0123456789',
  });
  assert.equal(config.requestTimeoutMs, 5000);
  assert.deepEqual(config.maxForwardPasses, { client: 1000, evaluator: 200_000_000, admin: 200_000_000 });
  assert.equal(config.metricsKey, sha256Hex('metrics-secret-0123456789'));
  assert.equal(parseConfig({}, 'x').maxForwardPasses.client, 10_000_000);
  assert.throws(() => loadConfig({ RS_ARENA_METRICS_KEY: 'short' }), /RS_ARENA_METRICS_KEY/);
  assert.throws(() => parseConfig({ metricsKey: 'plain-text-key' }, 'x.json'), /metricsKey/);
  assert.throws(() => parseConfig({ deployments: [{ id: 'a', model: 'm', defense: 'Bad Name' }] }, 'x.json'), /deployments\.0\.defense/);
});

test('invalid configuration is refused with the field that is wrong', () => {
  assert.throws(() => parseConfig({ deployments: [{ id: 'a', model: 'm', n: 0 }] }, 'x.json'), /deployments\.0\.n/);
  assert.throws(
    () =>
      parseConfig(
        {
          deployments: [
            { id: 'a', model: 'm' },
            { id: 'a', model: 'm' },
          ],
        },
        'x.json',
      ),
    /"a" appears twice/,
  );
  assert.throws(() => loadConfig({ RS_ARENA_CONFIG: file('bad.json', '{not json') }), /cannot read config/);
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT must be an integer/);
  assert.throws(() => loadConfig({ RS_ARENA_CLIENT_KEY: 'short' }), /at least 16 characters/);
  assert.throws(() => loadConfig({ RS_ARENA_CLIENT_BUDGET: '-3', RS_ARENA_CLIENT_KEY: 'client-key-0123456789abc' }), /RS_ARENA_CLIENT_BUDGET/);
});

test('no keys configured: an admin and a client key are generated and reported once', async () => {
  let generated: { role: string; secret: string }[] = [];
  const config = parseConfig({ logLevel: 'silent', deployments: [{ id: 'p', model: 'fmnist-cnn' }] }, 'test');
  const app = await buildApp(config, { logger: false, onGeneratedKeys: (keys) => (generated = keys) });
  try {
    assert.deepEqual(
      generated.map((k) => k.role),
      ['admin', 'client'],
    );
    assert.notEqual(generated[0].secret, generated[1].secret);
    const res = await app.inject({ url: '/v1/admin/keys', headers: { authorization: `Bearer ${generated[0].secret}` } });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes(generated[0].secret), 'secrets are never listed');
  } finally {
    await app.close();
  }
});

test('keys from a config file are sha256 digests', async () => {
  const config = parseConfig({ logLevel: 'silent', keys: [{ id: 'ops', role: 'admin', sha256: sha256Hex('a-long-operator-secret') }] }, 'test');
  const app = await buildApp(config, { logger: false });
  try {
    assert.equal((await app.inject({ url: '/v1/admin/keys', headers: { authorization: 'Bearer a-long-operator-secret' } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/v1/admin/keys', headers: { authorization: `Bearer ${sha256Hex('a-long-operator-secret')}` } })).statusCode, 401);
  } finally {
    await app.close();
  }
});

test('a model that cannot load stops start-up with a clear error', async () => {
  const models = mkdtempSync(join(tmpdir(), 'rs-arena-models-'));
  const manifest = JSON.parse(readFileSync(new URL('../../../models/manifest.json', import.meta.url), 'utf8'));
  const broken = { ...manifest.models[0], id: 'broken', file: 'broken.onnx', sha256: sha256Hex('garbage') };
  writeFileSync(join(models, 'broken.onnx'), 'garbage');
  writeFileSync(join(models, 'manifest.json'), JSON.stringify({ ...manifest, models: [broken] }));
  const config = parseConfig({ logLevel: 'silent', modelsDir: models, deployments: [{ id: 'b', model: 'broken' }] }, 'test');
  await assert.rejects(buildApp(config, { logger: false }), /cannot start: loading the configured deployments failed/);
  const missing = parseConfig({ logLevel: 'silent', deployments: [{ id: 'm', model: 'imagenet-not-there' }] }, 'test');
  await assert.rejects(buildApp(missing, { logger: false }), /no model "imagenet-not-there"/);
});

test('a bad LOG_LEVEL is one line in the one validation format, not a zod dump', () => {
  assert.throws(
    () => loadConfig({ LOG_LEVEL: 'loud' }),
    (err: Error) => /^LOG_LEVEL: \(top level\): Invalid option: expected one of "fatal"\|"error"/.test(err.message) && !err.message.includes('\n'),
  );
});
