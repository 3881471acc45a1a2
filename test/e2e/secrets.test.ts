// No secret in any output: an experiment run against an endpoint with known keys, its report, and
// an attack with a key and a --header are run as a user would; every file they wrote is scanned for
// the keys and the header's value, and the command recorded in preset.json and report.html shows
// the flags with their values redacted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { rsArena } from '../helpers/cli.js';
import { KEYS, testApp } from '../helpers/app.js';
import { gateway } from '../helpers/oip-servers.js';
import { redactArgv, redactCommand, redactUrl } from '../../client/src/redact.js';

let app: FastifyInstance;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'rs-arena-secrets-'));
const HEADER_SECRET = 'gateway-header-secret-77f1c2';

before(async () => {
  app = await testApp();
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));

test('redaction: key flags in both forms, header values, URL credentials, old recorded commands', () => {
  assert.deepEqual(redactArgv(['--key', 'k1', '--admin-key=k2', '--header', 'X-Token: abc', '--header=Authorization: Bearer z', '--budget', '5']), [
    '--key',
    '<redacted>',
    '--admin-key=<redacted>',
    '--header',
    'X-Token: <redacted>',
    '--header=Authorization: <redacted>',
    '--budget',
    '5',
  ]);
  assert.equal(redactUrl('https://user:pw@host:1/p'), 'https://<redacted>@host:1/p');
  assert.equal(
    redactCommand('rs-arena experiment --endpoint http://x --admin-key abc --client-key=def --out d'),
    'rs-arena experiment --endpoint http://x --admin-key <redacted> --client-key=<redacted> --out d',
  );
});

test('an experiment, its report and an attack with known keys write none of them anywhere', { timeout: 300_000 }, async () => {
  const out = join(dir, 'run');
  const config = join(dir, 'tiny.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'tiny',
      description: 'secrets scan',
      certification: { settings: [{ model: 'fmnist-cnn-randtrain', sigma: 0.25 }], images: 2, n0: 10, n: 100, alpha: 0.001 },
      distortion: {
        settings: [{ model: 'fmnist-cnn-randtrain', sigma: 0.25 }],
        ns: [10],
        Pas: [0.5],
        attacks: ['rays'],
        budget: 60,
        images: 2,
        assessSamples: 50,
      },
    }),
  );
  const exp = await rsArena([
    'experiment',
    '--config',
    config,
    '--endpoint',
    base,
    '--admin-key',
    KEYS.admin,
    `--evaluator-key=${KEYS.evaluator}`,
    '--client-key',
    KEYS.client,
    '--out',
    out,
  ]);
  assert.equal(exp.code, 0, exp.stderr);
  // The experiment removed the deployments it created on this (shared) server.
  const left = (await app.inject({ url: '/v1/admin/deployments', headers: { authorization: `Bearer ${KEYS.admin}` } }))
    .json()
    .deployments.map((d: { id: string }) => d.id);
  assert.deepEqual(left.sort(), ['cohen', 'hidden', 'plain', 'rs']);
  const report = await rsArena(['report', out]);
  assert.equal(report.code, 0, report.stderr);
  // The report's query curves as data, with the oracle of each line (here RS n = 10, the shortcut).
  const attacked = readFileSync(join(out, 'distortion.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => !r.misclassified);
  const csv = readFileSync(join(out, 'distortion-queries.csv'), 'utf8').trim().split('\n');
  if (attacked.length) {
    assert.equal(
      csv[0],
      'attack,model,sigma,n,Pa,oracle,repeats,images,queries,medianL2',
      JSON.stringify(attacked.map((r) => [r.model, r.sigma, r.n, r.attack, r.misclassified, r.history.length])) +
        readFileSync(join(out, 'preset.json'), 'utf8'),
    );
    assert.ok(
      csv.length > 1 && csv.slice(1).every((l) => l.startsWith(`rays,fmnist-cnn-randtrain,0.25,10,0.5,shortcut,1,${attacked.length},`)),
      csv.join('\n'),
    );
  }
  const gw = await gateway({ upstream: base, prefix: '/p', apiKey: HEADER_SECRET, bearer: KEYS.client });
  try {
    const attackOut = join(out, 'attack.jsonl');
    const attack = await rsArena([
      'attack',
      '--protocol',
      'v2',
      '--endpoint',
      gw.url,
      '--header',
      `X-Api-Key: ${HEADER_SECRET}`,
      '--deployment',
      'plain',
      '--attack',
      'rays',
      '--budget',
      '40',
      '--count',
      '1',
      '--out',
      attackOut,
    ]);
    assert.equal(attack.code, 0, attack.stderr);
    const v1 = await rsArena([
      'attack',
      '--endpoint',
      base,
      '--key',
      KEYS.client,
      '--deployment',
      'plain',
      '--attack',
      'rays',
      '--budget',
      '40',
      '--count',
      '1',
      '--out',
      join(out, 'v1.jsonl'),
    ]);
    assert.equal(v1.code, 0, v1.stderr);
    for (const [name, text] of [
      ['experiment output', exp.stdout + exp.stderr],
      ['report output', report.stdout + report.stderr],
      ['attack output', attack.stdout + attack.stderr + v1.stdout + v1.stderr],
    ]) {
      for (const secret of [...Object.values(KEYS), HEADER_SECRET]) assert.ok(!text.includes(secret), `${name} shows a secret`);
    }
  } finally {
    await gw.close();
  }
  const written = files(out);
  assert.ok(
    written.some((f) => f.endsWith('report.html')) && written.some((f) => f.endsWith('.npy')) && written.some((f) => f.endsWith('attack.jsonl')),
    written.join(' '),
  );
  for (const f of written) {
    const bytes = readFileSync(f);
    for (const secret of [...Object.values(KEYS), HEADER_SECRET]) assert.equal(bytes.includes(Buffer.from(secret)), false, `${f} contains a secret`);
  }
  const preset = JSON.parse(readFileSync(join(out, 'preset.json'), 'utf8'));
  assert.match(preset.command, /--admin-key <redacted> --evaluator-key=<redacted> --client-key <redacted> /);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /--admin-key &lt;redacted&gt; --evaluator-key=&lt;redacted&gt; --client-key &lt;redacted&gt; /);
});
