// The OpenAPI document: it passes Redocly's recommended rules, it documents exactly the routes the
// server serves, and a route's schema is what validates its request (route.ts: one declaration).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { testApp, auth } from '../../helpers/app.js';

const app = await testApp();
after(() => app.close());
const doc = (await app.inject('/openapi.json')).json();

test("the served document passes Redocly's recommended rules", async () => {
  const config = await createConfig({
    extends: ['recommended'],
    // Liveness, readiness of the Open Inference Protocol's server, its metadata and this document
    // answer no client error: declaring one to please the rule would be untrue.
    rules: { 'operation-4xx-response': 'off' },
  });
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
  assert.deepEqual(
    problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`),
    [],
  );
});

test('every served route is documented, and every documented operation is served', () => {
  // Fastify's route tree (printRoutes), flattened: indentation is depth, segments concatenate.
  const served = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    const path =
      stack
        .join('')
        .replace(/\/$/, '')
        .replace(/:(\w+)/g, '{$1}') || '/';
    for (const method of m[3].split(', ')) if (method !== 'HEAD') served.add(`${method.toLowerCase()} ${path}`);
  }
  const documented = new Set(
    Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`)),
  );
  assert.ok(served.size >= 30, `the route tree was read (${served.size} routes)`);
  assert.deepEqual(
    [...served].filter((r) => !documented.has(r)),
    [],
    'served but not documented',
  );
  assert.deepEqual(
    [...documented].filter((r) => !served.has(r)),
    [],
    'documented but not served',
  );
  const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) =>
    Object.values(ops).map((o) => o.operationId),
  );
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
});

test("a route's declared schema validates its request before the handler, in the one error format", async () => {
  // Body: the admin's key creation (KeyCreate, a strict object).
  const bad = await app.inject({ method: 'POST', url: '/v1/admin/keys', headers: auth('admin'), payload: { role: 'root', secert: 'x' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error, 'invalid_key');
  assert.match(bad.json().message, /^invalid key: role: .*; secert: unknown field \(did you mean "secret"\?\)$/);
  // The documented body schema is that same schema.
  const create = doc.paths['/v1/admin/keys'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(Object.keys(create.properties).sort(), ['budgets', 'id', 'role', 'secret']);
  assert.equal(create.additionalProperties, false);

  // Query: a detector reset's ?key= (at most 64 characters), refused before the deployment is even looked up.
  const query = await app.inject({ method: 'DELETE', url: `/v1/deployments/nope/detections?key=${'k'.repeat(65)}`, headers: auth('evaluator') });
  assert.equal(query.statusCode, 400);
  assert.equal(query.json().error, 'invalid_query');
  assert.match(query.json().message, /^invalid query: key: /);

  // An optional body: resetting every counter needs none.
  const reset = await app.inject({ method: 'POST', url: '/v1/admin/usage/reset', headers: auth('admin') });
  assert.equal(reset.statusCode, 200, reset.body);
  assert.equal(doc.paths['/v1/admin/usage/reset'].post.requestBody.required, false);
  assert.equal(doc.paths['/v1/admin/keys'].post.requestBody.required, true);

  // Open routes say so (an empty security list); keyed ones name the bearer scheme.
  assert.deepEqual(doc.paths['/healthz'].get.security, []);
  assert.deepEqual(doc.paths['/v1/deployments/{id}/predict'].post.security, [{ bearer: [] }]);
});
