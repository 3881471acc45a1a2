// The server as a user runs it: `npm start`'s entry point in its own process, real HTTP on a real
// port, keys from the environment, SIGTERM to stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { ErrorBody, PredictResponse, UsageResponse } from '@rs-arena/shared/api';
import { images } from '../helpers/app.js';

const ADMIN = 'e2e-admin-key-0123456789';
const CLIENT = 'e2e-client-key-0123456789';
const QUERY_SECRET = 'e2e-query-string-secret-0123456789';

test('the default server answers over real HTTP, counts queries, enforces budgets and never logs a key', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RS_ARENA_ADMIN_KEY: ADMIN, RS_ARENA_CLIENT_KEY: CLIENT, RS_ARENA_CLIENT_BUDGET: '12' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 45_000);
      child.stdout.on('data', () => {
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
    });
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const { values, labels } = images(10);
    const call = (deployment: string, body: Float32Array) =>
      fetch(`${base}/v1/deployments/${deployment}/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/octet-stream' },
        body: float32ToBytes(body),
      });
    const res = await call('fmnist-randtrain-rs025', values);
    assert.equal(res.status, 200);
    const body = PredictResponse.parse(await res.json());
    assert.equal(body.labels.length, 10);
    assert.ok(body.labels.filter((l: number, i: number) => l === labels[i]).length >= 7);
    assert.deepEqual(body.usage, { used: 10, limit: 12, remaining: 2 });
    const refused = await call('fmnist-randtrain-rs025', values.subarray(0, 3 * 784));
    assert.equal(refused.status, 429);
    assert.match(ErrorBody.parse(await refused.json()).message, /exceeds the 2 remaining of 12/);
    const usage = UsageResponse.parse(await (await fetch(`${base}/v1/usage`, { headers: { authorization: `Bearer ${CLIENT}` } })).json());
    const rs = usage.deployments.find((d) => d.deployment === 'fmnist-randtrain-rs025')!;
    assert.deepEqual([rs.queries, rs.forwardPasses, rs.rejected], [10, 1000, 3]);
    // A key put in a query string by mistake must not reach the log with the URL.
    assert.equal((await fetch(`${base}/v1/usage?key=${QUERY_SECRET}`, { headers: { authorization: `Bearer ${CLIENT}` } })).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /rs_arena_queries_total\{deployment="fmnist-randtrain-rs025",route="predict"\} 10/);
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output);
  }
  assert.ok(!output.includes(ADMIN) && !output.includes(CLIENT), 'a key appeared in the logs');
  assert.ok(!output.includes(QUERY_SECRET), 'a query string appeared in the logs');
  assert.match(output, /"url":"\/v1\/usage"/);
  assert.match(output, /"keyId":"env-client"/);
  assert.match(output, /"deployment":"fmnist-randtrain-rs025"/);
});
