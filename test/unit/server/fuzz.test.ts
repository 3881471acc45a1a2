// A bounded property-based fuzz of every route and content type over real HTTP: 2,000 malformed
// requests (bad JSON, wrong types, huge/negative/non-integer numbers, wrong content types,
// truncated binaries, NaN, image bombs, prototype names as ids). None may answer 5xx or hang, and
// the labels of probe deployments the fuzzer never names are the same afterwards.
// scripts/fuzz-server.ts runs the same generator at 10,000+ requests with a report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildApp } from '../../../server/src/app.js';
import { auth, binary, images } from '../../helpers/app.js';
import { PROBES, destroyAgent, fuzzConfig, hostileBodies, requestArbitrary, send } from '../../helpers/fuzz.js';

test('2,000 malformed requests: no 5xx, no hang, probe labels unchanged', { timeout: 120_000 }, async () => {
  const app = await buildApp(fuzzConfig(), { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const probe = async () => {
    const out = [];
    for (const { id } of PROBES) {
      const res = await app.inject({
        method: 'POST',
        url: `/v1/deployments/${id}/predict`,
        headers: { ...auth('admin'), ...binary(images(16).values).headers },
        payload: binary(images(16).values).payload,
      });
      assert.equal(res.statusCode, 200, res.body);
      out.push(res.json().labels);
    }
    return out;
  };
  try {
    const before = await probe();
    const statuses = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(await hostileBodies()), async (r) => {
        const { status } = await send(port, r, 5000);
        statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
        assert.ok(status !== 'hang', `no answer in 5 s to ${r.method} ${r.path}`);
        assert.ok(status === 'reset' || status < 500, `${status} for ${r.method} ${r.path} ${JSON.stringify(r.headers)}`);
      }),
      { numRuns: 2000, seed: 20261125 },
    );
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(await probe(), before);
    const resets = statuses.get('reset') ?? 0;
    assert.equal(resets, 0, `${resets} connections reset without an answer`);
    assert.ok((statuses.get('200') ?? 0) > 20, `some requests were valid and answered: ${JSON.stringify([...statuses])}`);
    assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
  } finally {
    destroyAgent();
    await app.close();
  }
});
