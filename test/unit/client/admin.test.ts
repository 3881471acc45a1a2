// The evaluator/admin client survives a connection the server resets (a keep-alive socket closed
// under it), and still reports HTTP errors at once, without retrying them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerAdmin } from '../../../client/src/admin.js';

test('ServerAdmin retries a reset connection, not an HTTP error', async () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (req.url === '/v1/admin/deployments' && requests === 1) return req.socket.destroy(); // ECONNRESET / socket closed
    if (req.url === '/v1/admin/deployments') return res.end(JSON.stringify({ deployments: [{ id: 'd', model: 'fmnist-cnn' }] }));
    res.statusCode = 404;
    res.end(JSON.stringify({ error: 'not_found', message: 'no such route' }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const admin = new ServerAdmin(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'k');
  try {
    const deployments = await admin.deployments();
    assert.deepEqual(
      deployments.map((d) => d.id),
      ['d'],
    );
    assert.equal(requests, 2);
    await assert.rejects(admin.usage(), /HTTP 404 from GET \/v1\/usage: no such route/);
    assert.equal(requests, 3);
  } finally {
    await admin.close();
    server.close();
  }
});
