// Limits only real sockets show: the key is checked before a body is read, stalled uploads time
// out, connections are capped, and a client that disconnects stops its computation and is refunded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { auth, images, testApp } from '../../helpers/app.js';

let app: FastifyInstance;
let port: number;
before(async () => {
  app = await testApp({ requestTimeoutMs: 1000 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
after(() => app.close());

/** Sends headers and `sent` bytes of a body that claims `length` bytes; resolves with the first response. */
function partialUpload(path: string, headers: Record<string, string>, length: number, sent: number) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string; ms: number }>((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { ...headers, 'content-length': String(length) } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', () => undefined); // the server may close while we would still write
    req.write(Buffer.alloc(sent));
    setTimeout(() => reject(new Error('no response in 10 s')), 10_000).unref();
  });
}

test('a 60 MB body without a key is refused with 401 before it is read', async () => {
  const res = await partialUpload('/v1/deployments/plain/predict', { 'content-type': 'application/octet-stream' }, 60_000_000, 64 * 1024);
  assert.equal(res.status, 401);
  assert.match(res.body, /missing Authorization/);
  assert.equal(res.headers.connection, 'close', 'the unread body is not drained');
  const wrongRole = await partialUpload('/v1/deployments/plain/votes', { ...auth('client'), 'content-type': 'application/octet-stream' }, 60_000_000, 1024);
  assert.equal(wrongRole.status, 403);
});

test('an upload that stalls gets 408 near the request timeout', async () => {
  const res = await partialUpload('/v1/deployments/plain/predict', { ...auth('client'), 'content-type': 'application/octet-stream' }, 3136, 100);
  assert.equal(res.status, 408);
  assert.ok(res.ms < 4000, `answered after ${res.ms.toFixed(0)} ms`);
});

test('connections beyond maxConnections are dropped at accept', async () => {
  const capped = await testApp({ maxConnections: 8, deployments: [] });
  await capped.listen({ host: '127.0.0.1', port: 0 });
  const port = (capped.server.address() as { port: number }).port;
  const sockets: Socket[] = [];
  const closed = await Promise.all(
    Array.from({ length: 16 }, () => {
      const s = connect(port, '127.0.0.1');
      sockets.push(s);
      s.on('error', () => undefined);
      return new Promise<boolean>((resolve) => {
        s.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 1500).unref();
      });
    }),
  );
  for (const s of sockets) s.destroy();
  await capped.close();
  const dropped = closed.filter(Boolean).length;
  assert.ok(dropped >= 8, `${dropped} of 16 idle connections dropped with a cap of 8`);
});

test('a client that disconnects stops its computation at the next chunk and is refunded', async () => {
  const usage = async () =>
    (await app.inject({ url: '/v1/usage', headers: auth('evaluator') })).json().deployments.find((d: { deployment: string }) => d.deployment === 'rs');
  // n = 1,000,000 in chunks of 64 (the deployment's batchSize): minutes of work if it ran to the end.
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/deployments/rs/votes?n=1000000',
    headers: { ...auth('evaluator'), 'content-type': 'application/octet-stream' },
  });
  req.on('error', () => undefined);
  req.end(Buffer.from(images(1).values.buffer.slice(0, 3136)));
  await new Promise((r) => setTimeout(r, 700));
  req.destroy();
  let after = await usage();
  for (let i = 0; i < 50 && after.forwardPasses === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await usage();
  }
  assert.ok(after.forwardPasses > 0, 'the passes spent before the disconnect are counted: ' + JSON.stringify(after));
  assert.ok(after.forwardPasses < 1_000_000, `stopped early: ${after.forwardPasses} passes`);
  assert.equal(after.queries, 0, 'the unanswered query was refunded');
  const settled = after.forwardPasses;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await usage()).forwardPasses, settled, 'no work continues after the stop');
  // The deployment answers the next request at once.
  const next = await app.inject({
    method: 'POST',
    url: '/v1/deployments/rs/votes?n=20',
    headers: { ...auth('evaluator'), 'content-type': 'application/octet-stream' },
    payload: Buffer.from(images(1).values.buffer.slice(0, 3136)),
  });
  assert.equal(next.statusCode, 200);
});
