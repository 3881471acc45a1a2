// `rs-arena attack` against the model servers a red team meets, each a small server of its own shape
// started here (test/helpers/model-servers.ts) that counts its inferences: TensorFlow Serving
// (JSON instances), TorchServe (PNG bodies), a product's JSON API (base64 JPEG, class names back),
// and rs-arena's /v1 with PNG bodies. HSJA, SurFree and RayS run against each; the server's count
// equals the records'; with PNG and JPEG every reported adversarial is exactly an image the server
// decoded. Bad input is one line and exit code 2 (usage) or 1 (runtime), with nothing written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { KEYS, TEST_DEPLOYMENTS, auth, testApp } from '../helpers/app.js';
import { records, rsArena, rsArenaInProcess, spent } from '../helpers/cli.js';
import { type ModelServer, productJsonLike, tfServingLike, torchServeLike } from '../helpers/model-servers.js';
import type { AttackRecord } from '../../client/src/record.js';
import { readNpy } from '../../client/src/npy.js';

const dir = mkdtempSync(join(tmpdir(), 'rs-arena-protocols-'));
// Every attack succeeds within its first 21 queries here, and at 60 each still runs all of its
// phases (HSJA's gradient probes in one batched request among them): 120 made twice the traffic
// for the same checks.
const BUDGET = 60;
const ATTACKS = ['--attack', 'hsja,surfree,rays', '--budget', String(BUDGET), '--count', '2', '--concurrency', '2'];
let tf: ModelServer;
let ts: ModelServer;
let product: ModelServer;
let app: FastifyInstance;
let base: string;

before(async () => {
  [tf, ts, product] = await Promise.all([tfServingLike(), torchServeLike(), productJsonLike('product-secret')]);
  // The one deployment the /v1 test attacks: the others would only load models at start-up.
  app = await testApp({ deployments: TEST_DEPLOYMENTS.filter((d) => d.id === 'plain') });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  // TorchServe's index_to_name.json; the product's lower-case names one per line.
  writeFileSync(join(dir, 'index_to_name.json'), JSON.stringify(Object.fromEntries(ts.classNames.map((n, i) => [String(i), n]))));
  writeFileSync(join(dir, 'product-classes.txt'), product.classNames.map((n) => n.toLowerCase()).join('\n'));
});
after(async () => {
  await Promise.all([tf.close(), ts.close(), product.close(), app.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function checkRecords(rs: AttackRecord[], protocol: string, encoding: string): void {
  assert.deepEqual(rs.map((r) => r.attack).sort(), ['hsja', 'hsja', 'rays', 'rays', 'surfree', 'surfree']);
  for (const r of rs) {
    assert.equal(r.protocol, protocol);
    assert.equal(r.encoding, encoding);
    assert.ok(r.queries.total <= BUDGET, `${r.attack} ${r.image}: ${r.queries.total}`);
    assert.ok(r.success, `${r.attack} ${r.image}: ${r.stopReason}`);
  }
}

/** Every saved adversarial is bit for bit an input the server decoded, and its L2 is from what it holds. */
function checkSeen(out: string, rs: AttackRecord[], server: { saw: (x: Float32Array) => boolean }): void {
  for (const r of rs) {
    assert.ok(r.adversarialFile, `${r.attack} ${r.image}: saved`);
    // A .npy: its shape in the header, the float32 values after it.
    const adv = readNpy(readFileSync(join(dirname(out), r.adversarialFile!))).values;
    assert.ok(server.saw(adv), `${r.attack} ${r.image}: the reported adversarial is exactly an image the endpoint decoded`);
    assert.ok(
      adv.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-3),
      'on the 8-bit grid',
    );
  }
}

test('TensorFlow Serving: JSON instances (NHWC, shape from the signature); counts equal', { timeout: 240_000 }, async () => {
  const out = join(dir, 'tf.jsonl');
  const run = await rsArena(['attack', '--protocol', 'tfserving', '--endpoint', tf.url, '--deployment', 'fmnist', ...ATTACKS, '--out', out, '--no-save']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /TensorFlow Serving model fmnist \(nhwc JSON instances\)/);
  const rs = records(out);
  checkRecords(rs, 'tfserving', 'json');
  assert.equal(tf.inferences(), spent(rs), 'the server ran exactly the queries the client counted');
});

test('TensorFlow Serving with PNG instances ({"b64"}): the adversarial is the image it decoded', { timeout: 120_000 }, async () => {
  const out = join(dir, 'tf-png.jsonl');
  const before = tf.inferences();
  const run = await rsArena([
    'attack',
    '--protocol',
    'tfserving',
    '--endpoint',
    tf.url,
    '--deployment',
    'fmnist',
    '--model-version',
    '1',
    '--encoding',
    'png',
    '--attack',
    'rays',
    '--budget',
    String(BUDGET),
    '--count',
    '2',
    '--out',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rs = records(out);
  assert.equal(tf.inferences() - before, spent(rs));
  assert.ok(rs.every((r) => r.success && r.encoding === 'png'));
  checkSeen(out, rs, tf);
});

test('TorchServe: PNG bodies, class names mapped by index_to_name.json; the adversarials are what it decoded', { timeout: 240_000 }, async () => {
  const out = join(dir, 'ts.jsonl');
  const run = await rsArena([
    'attack',
    '--protocol',
    'torchserve',
    '--endpoint',
    ts.url,
    '--deployment',
    'fmnist',
    '--input-shape',
    '1,28,28',
    '--classes',
    join(dir, 'index_to_name.json'),
    ...ATTACKS,
    '--out',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rs = records(out);
  checkRecords(rs, 'torchserve', 'png');
  assert.equal(ts.inferences(), spent(rs));
  checkSeen(out, rs, ts);
});

test('a product JSON API: base64 JPEG in a template, the label by name at a path, behind its own header; exact images', { timeout: 240_000 }, async () => {
  const out = join(dir, 'product.jsonl');
  const run = await rsArena([
    'attack',
    '--protocol',
    'json',
    '--endpoint',
    `${product.url}/api/classify`,
    '--header',
    'X-Api-Key: product-secret',
    '--deployment',
    'classifier',
    '--input-shape',
    '1,28,28',
    '--encoding',
    'jpeg:90',
    '--template',
    '{"image": "$INPUT"}',
    '--label-path',
    '$.label',
    '--classes',
    join(dir, 'product-classes.txt'),
    ...ATTACKS,
    '--out',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rs = records(out);
  checkRecords(rs, 'json', 'jpeg:90');
  assert.equal(product.inferences(), spent(rs));
  checkSeen(out, rs, product);
});

test("rs-arena's /v1 with PNG bodies: the server's count equals the client's", { timeout: 240_000 }, async () => {
  const usage = async () =>
    UsageResponse.parse((await app.inject({ method: 'GET', url: '/v1/usage', headers: auth('client') })).json()).deployments.find(
      (d) => d.deployment === 'plain',
    )?.queries ?? 0;
  const before = await usage();
  const out = join(dir, 'v1png.jsonl');
  const run = await rsArena([
    'attack',
    '--protocol',
    'v1',
    '--endpoint',
    base,
    '--key',
    KEYS.client,
    '--deployment',
    'plain',
    '--encoding',
    'png',
    ...ATTACKS,
    '--out',
    out,
    '--no-save',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rs = records(out);
  checkRecords(rs, 'v1', 'png');
  assert.equal((await usage()) - before, spent(rs));
});

test('bad input: one clear line, exit 2 (usage) or 1 (runtime), no stack trace, nothing a rerun would trust', { timeout: 120_000 }, async () => {
  const json = [
    'attack',
    '--protocol',
    'json',
    '--endpoint',
    `${product.url}/api/classify`,
    '--header',
    'X-Api-Key: product-secret',
    '--deployment',
    'c',
    '--input-shape',
    '1,28,28',
    '--attack',
    'rays',
    '--budget',
    '20',
    '--count',
    '1',
    '--no-save',
  ];
  const cases: [string[], number, RegExp][] = [
    [['--template', '{"image": "IMAGE"}', '--label-path', '$.label'], 2, /--template has no placeholder "\$INPUT"/],
    [['--template', '{"image": "$INPUT"', '--label-path', '$.label'], 2, /--template is not JSON/],
    [['--template', '{"image": "$INPUT"}', '--label-path', '$..label'], 2, /--label-path "\$\.\.label" does not read as a path/],
    [['--template', '{"image": "$INPUT"}', '--label-path', '$.class'], 1, /--label-path \$\.class finds nothing in the answer/],
    [
      ['--template', '{"image": "$INPUT"}', '--label-path', '$.label', '--classes', join(dir, 'index_to_name.json')],
      1,
      /class "[a-z/ -]+" is not in the classes file/,
    ],
    [
      ['--template', '{"image": "$INPUT"}', '--label-path', '$.label'],
      1,
      /names the class "[a-z/ -]+"; give the class names in index order with --classes FILE/,
    ],
  ];
  // What the command says, run in this process; the unreachable endpoint (down) in a process of its own.
  for (const [i, [extra, code, message]] of cases.entries()) {
    const out = join(dir, `bad-${i}.jsonl`);
    const run = await rsArenaInProcess([...json, ...extra, '--out', out]);
    assert.equal(run.code, code, `${extra.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(out) || readFileSync(out, 'utf8').trim() === '', 'nothing written');
  }
  // The generic adapter reaches TF Serving's predict too (JSON numbers, NHWC, the label as scores at a path).
  const generic = await rsArenaInProcess([
    'attack',
    '--protocol',
    'json',
    '--endpoint',
    `${tf.url}/v1/models/fmnist:predict`,
    '--deployment',
    'c',
    '--input-shape',
    '1,28,28',
    '--encoding',
    'json',
    '--layout',
    'nhwc',
    '--template',
    '{"instances": ["$INPUT"]}',
    '--label-path',
    '$.predictions[0]',
    '--attack',
    'rays',
    '--budget',
    '20',
    '--count',
    '1',
    '--no-save',
    '--out',
    join(dir, 'ok.jsonl'),
  ]);
  assert.equal(generic.code, 0, generic.stderr);
  // An answer that is not JSON: a page served with 200.
  const page = createServer((req, res) =>
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome</body></html>')),
  );
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  try {
    const out = join(dir, 'page.jsonl');
    const run = await rsArenaInProcess([
      'attack',
      '--protocol',
      'json',
      '--endpoint',
      `http://127.0.0.1:${(page.address() as AddressInfo).port}/classify`,
      '--deployment',
      'c',
      '--input-shape',
      '1,28,28',
      '--template',
      '{"image": "$INPUT"}',
      '--label-path',
      '$.label',
      '--attack',
      'rays',
      '--budget',
      '20',
      '--count',
      '1',
      '--no-save',
      '--out',
      out,
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /the answer is not JSON: "<html><body>Welcome/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.ok(!existsSync(out) || readFileSync(out, 'utf8').trim() === '');
  } finally {
    page.close();
  }
  const down = await rsArena([
    'attack',
    '--protocol',
    'torchserve',
    '--endpoint',
    'http://127.0.0.1:9',
    '--deployment',
    'm',
    '--input-shape',
    '1,28,28',
    '--out',
    join(dir, 'down.jsonl'),
  ]);
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, /^rs-arena attack: cannot reach http:\/\/127\.0\.0\.1:9: .*ECONNREFUSED/m);
  assert.equal(down.stderr.trim().split('\n').length, 1);
  const torchNoShape = await rsArenaInProcess(['attack', '--protocol', 'torchserve', '--endpoint', ts.url, '--deployment', 'fmnist']);
  assert.equal(torchNoShape.code, 2);
  assert.match(torchNoShape.stderr, /--protocol torchserve needs --input-shape C,H,W/);
  const wrongEncoding = await rsArenaInProcess([
    'attack',
    '--protocol',
    'torchserve',
    '--endpoint',
    ts.url,
    '--deployment',
    'fmnist',
    '--input-shape',
    '1,28,28',
    '--encoding',
    'float32',
  ]);
  assert.equal(wrongEncoding.code, 2);
  assert.match(wrongEncoding.stderr, /--protocol torchserve carries png, jpeg inputs, not float32/);
});
