// Client and server counts stay equal when the connection is reset after the server answered (the
// client retries with the same Idempotency-Key and is given the kept answer, charged once) and when
// a batch the client splits into several requests meets a 429 half-way (only the refused part is
// un-booked on the client).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HttpOracle } from '../../../client/src/oracle-http.js';
import { ServerAdmin } from '../../../client/src/admin.js';
import { BudgetExhausted, CountingOracle } from '../../../client/src/oracle.js';
import { KEYS, auth, images, testApp } from '../../helpers/app.js';

/** A TCP proxy that resets the client's connection instead of passing on the next `drops` 200 answers. */
async function resettingProxy(target: number, drops: number): Promise<{ port: number; dropped: () => number; server: Server }> {
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('error', () => {});
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (dropped < drops && chunk.toString('latin1').startsWith('HTTP/1.1 200')) {
        dropped++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, dropped: () => dropped, server };
}

async function listening(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

const serverCount = async (app: FastifyInstance, deployment: string, role: 'client' | 'evaluator' = 'client') =>
  (await app.inject({ url: '/v1/usage', headers: auth(role) })).json().deployments.find((d: { deployment: string }) => d.deployment === deployment).queries;

test('a connection reset after the server answered: the retry gets the kept answer, charged once', async () => {
  const app = await testApp({}, 1000);
  const proxy = await resettingProxy(await listening(app), 3);
  const oracle = await HttpOracle.connect({ endpoint: `http://127.0.0.1:${proxy.port}`, key: KEYS.client, deployment: 'rs', backoffMs: 10 });
  const admin = new ServerAdmin(`http://127.0.0.1:${proxy.port}`, KEYS.evaluator);
  try {
    const { values, labels } = images(5);
    const counting = new CountingOracle(oracle, labels[0], 1000);
    const answers = await counting.labels(values, 5);
    assert.equal(answers.length, 5);
    // Charged once although the answer was sent twice: the retry was given the kept answer.
    assert.equal(await serverCount(app, 'rs'), 5);
    assert.equal(counting.queries, 5);
    const fresh = await app.inject({
      method: 'POST',
      url: '/v1/deployments/rs/predict',
      headers: { ...auth('client'), 'content-type': 'application/octet-stream' },
      payload: Buffer.from(values.buffer, values.byteOffset, 5 * 784 * 4),
    });
    assert.equal(await serverCount(app, 'rs'), 10);
    assert.equal(fresh.json().labels.length, 5);

    // Twice more: once for votes (the evaluator's client), once for predict again.
    const votes = await admin.votes('rs', values.subarray(0, 2 * 784), [2, 1, 28, 28], 7);
    assert.equal(votes.counts.length, 2);
    assert.equal(await serverCount(app, 'rs', 'evaluator'), 2);
    await counting.labels(values, 3);
    assert.equal(proxy.dropped(), 3, 'three answers were lost to resets');
    assert.equal(await serverCount(app, 'rs'), 10 + 3);
    assert.equal(counting.queries, 5 + 3);
  } finally {
    await oracle.close();
    await admin.close();
    proxy.server.close();
    await app.close();
  }
});

test('a batch split into several requests that meets a 429 half-way: only the refused part is un-booked', async () => {
  // plain: maxBatch 64, budget 100 → 150 inputs go as 64 (answered), 64 (refused: 128 > 100), never 22.
  const app = await testApp({}, 100);
  const port = await listening(app);
  const oracle = await HttpOracle.connect({ endpoint: `http://127.0.0.1:${port}`, key: KEYS.client, deployment: 'plain' });
  try {
    assert.equal(oracle.info.maxBatch, 64);
    const values = new Float32Array(150 * 784).fill(0.5);
    const counting = new CountingOracle(oracle, 0, 10_000);
    await assert.rejects(counting.labels(values, 150), (err) => err instanceof BudgetExhausted && err.charged === 64);
    assert.equal(await serverCount(app, 'plain'), 64);
    assert.equal(counting.queries, 64, 'the client books what the server charged');
    // The rest of the budget, then a refusal of a single request: nothing more booked.
    await counting.labels(values, 36);
    await assert.rejects(counting.labels(values, 1), BudgetExhausted);
    assert.equal(await serverCount(app, 'plain'), 100);
    assert.equal(counting.queries, 100);
  } finally {
    await oracle.close();
    await app.close();
  }
});

test('idempotency on the server: replay, in-progress conflict, reuse for another body, bad keys', async () => {
  const app = await testApp({}, 50);
  try {
    const payload = Buffer.from(images(2).values.buffer.slice(0, 2 * 784 * 4));
    const send = (id: string, body = payload, deployment = 'rs') =>
      app.inject({
        method: 'POST',
        url: `/v1/deployments/${deployment}/predict`,
        headers: { ...auth('client'), 'content-type': 'application/octet-stream', 'idempotency-key': id },
        payload: body,
      });
    const [first, second] = await Promise.all([send('id-concurrent-1'), send('id-concurrent-1')]);
    assert.deepEqual([first.statusCode, second.statusCode].sort(), [200, 409], 'a retry while the first runs is told to wait');
    const replay = await send('id-concurrent-1');
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.json(), (first.statusCode === 200 ? first : second).json());
    assert.equal(await serverCount(app, 'rs'), 2);
    assert.equal((await send('id-concurrent-1', payload.subarray(0, 784 * 4))).statusCode, 422);
    assert.equal((await send('short')).statusCode, 400);
    // A refusal is not kept (it charged nothing): its retry is checked against the budget again.
    const tooMany = Buffer.from(new Float32Array(60 * 784).fill(0.5).buffer);
    assert.equal((await send('id-refused-01', tooMany)).statusCode, 429);
    const again = await send('id-refused-01', tooMany);
    assert.equal(again.statusCode, 429);
    assert.equal(again.headers['idempotent-replayed'], undefined);
    assert.equal(await serverCount(app, 'rs'), 2);
  } finally {
    await app.close();
  }
});

test('/v2 infer has the same idempotent retries: a reset after the answer is replayed (binary tensors), charged once', async () => {
  const app = await testApp({}, 1000);
  const proxy = await resettingProxy(await listening(app), 2);
  const oracle = await HttpOracle.connect({ protocol: 'v2', endpoint: `http://127.0.0.1:${proxy.port}`, key: KEYS.client, deployment: 'rs', backoffMs: 10 });
  try {
    const { values, labels } = images(4);
    const counting = new CountingOracle(oracle, labels[0], 1000);
    const first = await counting.labels(values, 4);
    const second = await counting.labels(values, 3);
    assert.equal(proxy.dropped(), 2, 'both answers were lost to a reset once and replayed');
    assert.equal(first.length, 4);
    assert.equal(second.length, 3);
    assert.equal(await serverCount(app, 'rs'), 7, 'charged once each');
    assert.equal(counting.queries, 7);
    // Replayed byte for byte: a direct retry with the same key gets the binary answer and its framing header.
    const req = {
      method: 'POST' as const,
      url: '/v2/models/plain/infer',
      headers: { ...auth('client'), 'content-type': 'application/json', 'idempotency-key': 'v2-replay-0001' },
      payload: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 28, 28], data: Array.from(values.subarray(0, 784)) }] },
    };
    const a = await app.inject(req);
    const b = await app.inject(req);
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assert.equal(b.body, a.body);
    assert.equal(await serverCount(app, 'plain'), 1);
  } finally {
    await oracle.close();
    proxy.server.close();
    await app.close();
  }
});

test('/v2: a batch split into several requests that meets a budget refusal half-way books exactly what was answered', async () => {
  // Sent one part at a time (the old V2Oracle sent them concurrently and lost count after a 429).
  const app = await testApp({}, 100);
  const port = await listening(app);
  const oracle = await HttpOracle.connect({ protocol: 'v2', endpoint: `http://127.0.0.1:${port}`, key: KEYS.client, deployment: 'plain', maxBatch: 40 });
  try {
    const values = new Float32Array(150 * 784).fill(0.5);
    const counting = new CountingOracle(oracle, 0, 10_000);
    // 40 + 40 answered, the third part (80 + 40 > 100) refused, the fourth never sent.
    await assert.rejects(counting.labels(values, 150), (err) => err instanceof BudgetExhausted && err.charged === 80);
    assert.equal(await serverCount(app, 'plain'), 80);
    assert.equal(counting.queries, 80);
  } finally {
    await oracle.close();
    await app.close();
  }
});
