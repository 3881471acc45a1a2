// The client parses every server answer with the API's schemas: a well-formed answer comes through
// typed, a malformed one (another server version, a proxy's page) is one clear error naming the call
// and the field, never an undefined inside an attack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerAdmin } from '../../../client/src/admin.js';
import { HttpOracle } from '../../../client/src/oracle-http.js';
import { ResponseError } from '../../../client/src/response.js';

const INFO = {
  id: 'd',
  model: 'm',
  dataset: 'fmnist',
  inputShape: [1, 2, 2],
  range: [0, 1],
  classes: 3,
  classNames: ['a', 'b', 'c'],
  maxBatch: 8,
  smoothing: null,
};
const USAGE = { used: 1, limit: null, remaining: null };

/** What the fake server answers per "METHOD path" (status 200, body as given: an object is sent as JSON). */
let answers: Record<string, unknown> = {};
let server: Server;
let endpoint: string;

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const answer = answers[`${req.method} ${req.url}`];
      if (answer === undefined) {
        res.statusCode = 404;
        return res.end(JSON.stringify({ error: 'not_found', message: 'no such route' }));
      }
      res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const connect = () => HttpOracle.connect({ endpoint, key: 'k', deployment: 'd', retries: 0 });

test('well-formed answers come through parsed', async () => {
  answers = {
    'GET /v1/deployments/d': INFO,
    'POST /v1/deployments/d/predict': { labels: [2, -1], usage: USAGE },
    'GET /v1/usage': { key: { id: 'c', role: 'client' }, deployments: [] },
  };
  const oracle = await connect();
  try {
    assert.deepEqual(oracle.inputShape, [1, 2, 2]);
    assert.deepEqual(await oracle.predict(new Float32Array(8), 2), Int32Array.from([2, -1]));
    assert.deepEqual(oracle.lastUsage, USAGE);
    assert.equal((await oracle.usage()).key.role, 'client');
  } finally {
    await oracle.close();
  }
});

test('a deployment description that is not the API is refused at connect, naming the field', async () => {
  answers = { 'GET /v1/deployments/d': { ...INFO, range: undefined } };
  await assert.rejects(
    connect(),
    (err) => err instanceof ResponseError && /GET \/v1\/deployments\/d: the answer does not match the API \(range: /.test(err.message),
  );
  answers = { 'GET /v1/deployments/d': { ...INFO, inputShape: [4] } };
  await assert.rejects(connect(), /shape \[4\], not \[C, H, W\]/);
  answers = { 'GET /v1/deployments/d': '<html>502 Bad Gateway</html>' };
  await assert.rejects(connect(), /GET \/v1\/deployments\/d: the answer is not JSON: "<html>502 Bad Gateway/);
});

test('a malformed predict answer is an error, not wrong labels', async () => {
  answers = { 'GET /v1/deployments/d': INFO, 'POST /v1/deployments/d/predict': { labels: ['cat'], usage: USAGE } };
  const oracle = await connect();
  try {
    await assert.rejects(oracle.predict(new Float32Array(4), 1), /POST \/v1\/deployments\/d\/predict: the answer does not match the API \(labels\.0: /);
  } finally {
    await oracle.close();
  }
});

test('the admin client parses its answers too', async () => {
  answers = { 'GET /v1/admin/deployments': { deployments: [{ id: 'd' }] }, 'GET /v1/usage': { key: { id: 'e', role: 'evaluator' }, deployments: [] } };
  const admin = new ServerAdmin(endpoint, 'k');
  try {
    await assert.rejects(admin.deployments(), /GET \/v1\/admin\/deployments: the answer does not match the API \(deployments\.0\.model: /);
    assert.equal((await admin.usage()).key.role, 'evaluator');
  } finally {
    await admin.close();
  }
});
