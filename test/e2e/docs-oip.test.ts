// The commands of docs/operator.md and docs/red-team.md, run as written: every ```bash block of a
// page, in order, in one bash, against a stand-in for Triton (an Open Inference Protocol server
// answering class scores) behind a gateway with a path prefix and an API-key header, and for
// red-team.md also stand-ins for TensorFlow Serving, TorchServe and a product's JSON API, and an
// rs-arena server for the audit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../client/src/server-process.js';
import { UsageResponse } from '@rs-arena/shared/api';
import { KEYS, auth, testApp } from '../helpers/app.js';
import { productJsonLike, tfServingLike, torchServeLike } from '../helpers/model-servers.js';
import { gateway, tritonLike, type Listening } from '../helpers/oip-servers.js';

let triton: Listening & { inferences: () => number };
let gw: Listening;
const work = mkdtempSync(join(tmpdir(), 'rs-arena-docs-'));
const API_KEY = 'docs-gateway-key';
const CLIENT_KEY = 'docs-client-key-0123456789';

before(async () => {
  triton = await tritonLike('fmnist-cnn', 'fmnist');
  gw = await gateway({ upstream: triton.url, prefix: '/ml/triton', apiKey: API_KEY });
});
after(async () => {
  await gw.close();
  await triton.close();
  rmSync(work, { recursive: true, force: true });
});

/** The ```bash blocks of a Markdown page. */
function commands(page: string): string {
  const blocks = [...readFileSync(page, 'utf8').matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.ok(blocks.length > 0, `${page} has no bash block`);
  return blocks.join('\n');
}

/** The top-level JSON objects of a text, one string each (curl prints bodies without a newline). */
function jsonValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' && depth++ === 0) start = i;
    else if (c === '}' && --depth === 0) out.push(text.slice(start, i + 1));
  }
  return out;
}

/** Runs a script in its own process group, which is ended afterwards (background servers included). */
async function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    /* the group has already gone */
  }
  return { code, stdout, stderr };
}

test('docs/operator.md: rs-arena in front of a Triton model; what a client sees', { timeout: 180_000 }, async () => {
  const before = triton.inferences();
  const run = await bash(commands('docs/operator.md'), { TRITON_URL: gw.url, TRITON_API_KEY: API_KEY, CLIENT_KEY, PORT: String(await freePort()), WORK: work });
  assert.equal(run.code, 0, run.stderr);
  // curl's bodies, in order (npm's own "> …" lines aside).
  const lines = jsonValues(
    run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('>'))
      .join('\n'),
  );
  // 1. The engine's own metadata; 3. the front's, which hides the engine and the smoothing.
  assert.equal(JSON.parse(lines[0]).platform, 'onnxruntime_onnx');
  const front = JSON.parse(lines[1]);
  assert.deepEqual(front.outputs, [{ name: 'label', datatype: 'INT64', shape: [-1, 1] }]);
  assert.doesNotMatch(lines[1], /fmnist-cnn|sigma|triton/i);
  const answer = JSON.parse(lines[2]);
  assert.equal(answer.id, 'q1');
  assert.deepEqual(answer.outputs[0].shape, [1, 1]);
  assert.ok(Number.isInteger(answer.outputs[0].data[0]));
  const usage = JSON.parse(lines[3]).deployments.find((d: { deployment: string }) => d.deployment === 'fmnist-rs');
  assert.equal(usage.queries, 1);
  assert.equal(usage.forwardPasses, undefined, 'undisclosed by default: the client does not see n');
  // n = 100 noisy copies on the engine, plus the one test pass when the deployment loaded.
  assert.equal(triton.inferences() - before, 101);
});

test('docs/red-team.md: every protocol attacked as written, counts equal; the audit and its budget checked on held-out images', {
  timeout: 600_000,
}, async () => {
  const [tf, ts, product] = await Promise.all([tfServingLike(), torchServeLike(), productJsonLike('docs-product-key')]);
  // The one deployment the page's audits name: the test server's others would only load their models.
  const app = await testApp({ deployments: [{ id: 'fmnist-cnn', model: 'fmnist-cnn', sigma: 0, n: 1, maxBatch: 64 }] });
  try {
    const rsUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const before = triton.inferences();
    const run = await bash(commands('docs/red-team.md'), {
      TRITON_URL: gw.url,
      TRITON_API_KEY: API_KEY,
      TFSERVING_URL: tf.url,
      TORCHSERVE_URL: ts.url,
      PRODUCT_URL: product.url,
      PRODUCT_API_KEY: 'docs-product-key',
      RS_ARENA_URL: rsUrl,
      RS_ARENA_KEY: KEYS.client,
      WORK: work,
    });
    assert.equal(run.code, 0, run.stderr);
    const spent = Object.fromEntries(
      [...run.stdout.matchAll(/^(\w+) queries (\d+) labels (.*)$/gm)].map((m) => [m[1], { queries: Number(m[2]), labels: m[3] }]),
    );
    assert.deepEqual(Object.keys(spent), ['triton', 'tfserving', 'torchserve', 'product'], run.stdout);
    assert.equal(spent.triton.queries, triton.inferences() - before, 'the client counted every query the model answered');
    assert.equal(spent.triton.labels, 'argmax of 10 scores (top-1 taken on the client)');
    assert.equal(spent.tfserving.queries, tf.inferences());
    assert.equal(spent.torchserve.queries, ts.inferences());
    assert.equal(spent.product.queries, product.inferences());
    for (const s of Object.values(spent))
      assert.ok(s.queries > 0 && s.queries <= 6 * (200 + 5), 'each attack within its budget, plus 5 fresh answers on each adversarial');
    // The audit and the held-out check: both ran, and the server counted what the audits say they spent.
    const audit = JSON.parse(readFileSync(join(work, 'audit.json'), 'utf8'));
    const check = JSON.parse(readFileSync(join(work, 'check.json'), 'utf8'));
    const used = UsageResponse.parse((await app.inject({ method: 'GET', url: '/v1/usage', headers: auth('client') })).json()).deployments.find(
      (d) => d.deployment === 'fmnist-cnn',
    )!.queries;
    assert.equal(used, audit.queries + check.queries);
    assert.match(run.stdout, /^held-out budget \d+ broken \d+ of \d+ interval /m);
  } finally {
    await Promise.all([tf.close(), ts.close(), product.close(), app.close()]);
  }
});
