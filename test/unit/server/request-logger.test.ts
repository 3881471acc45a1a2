// The lazy request logger: no pino child is made for a request that logs nothing at the enabled
// level; a line that is logged carries the request id, the key id and the deployment the preamble
// bound, in the app as in isolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from '../../../server/src/app.js';
import { RequestLogger } from '../../../server/src/request-logger.js';
import { auth, binary, images, testConfig } from '../../helpers/app.js';

const ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** A parent logger at `level` that records the children it makes and the lines they log. */
function recorder(level: string) {
  const children: Record<string, unknown>[] = [];
  const lines: { level: string; bindings: Record<string, unknown>; args: unknown[] }[] = [];
  const make = (bindings: Record<string, unknown>): FastifyBaseLogger => {
    const logger = { level } as Record<string, unknown>;
    for (const l of ORDER) logger[l] = (...args: unknown[]) => lines.push({ level: l, bindings, args });
    logger.silent = () => {};
    logger.child = (more: Record<string, unknown>) => {
      children.push(more);
      return make({ ...bindings, ...more });
    };
    return logger as unknown as FastifyBaseLogger;
  };
  const parent = Object.assign(make({}), { isLevelEnabled: (l: string) => ORDER.indexOf(l) >= ORDER.indexOf(level) });
  return { parent, children, lines };
}

test('no child logger until a line at an enabled level is logged; then one, with every binding', () => {
  const { parent, children, lines } = recorder('warn');
  const log = new RequestLogger(parent, { reqId: 'r1' }, {});
  log.bind({ keyId: 'k1' });
  log.bind({ deployment: 'd1' });
  log.info({ count: 3 }, 'not at this level');
  log.debug('nor this');
  assert.equal(children.length, 0, 'nothing made for lines below the level');
  assert.equal(lines.length, 0);
  assert.equal(log.level, 'warn');
  log.warn({ count: 3 }, 'budget');
  assert.deepEqual(children, [{ reqId: 'r1', keyId: 'k1', deployment: 'd1' }], 'one child, all bindings at once');
  assert.deepEqual(lines, [{ level: 'warn', bindings: { reqId: 'r1', keyId: 'k1', deployment: 'd1' }, args: [{ count: 3 }, 'budget'] }]);
  log.error('again');
  assert.equal(children.length, 1, 'the child is made once');
  // A binding after the child exists: a child of it.
  log.bind({ late: true });
  log.error('late');
  assert.deepEqual(lines.at(-1)!.bindings, { reqId: 'r1', keyId: 'k1', deployment: 'd1', late: true });
});

test("the app's request lines carry the request id, key id and deployment; at warn a query logs nothing", async () => {
  for (const level of ['info', 'warn']) {
    const out: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        out.push(...String(chunk).trim().split('\n'));
        done();
      },
    });
    const app = await buildApp(testConfig(), { logger: { level, stream } });
    try {
      const body = binary(images(1).values);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/deployments/rs/predict',
        payload: body.payload,
        headers: { ...body.headers, ...auth('client') },
      });
      assert.equal(res.statusCode, 200, res.body);
      const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId !== undefined);
      if (level === 'warn') {
        assert.deepEqual(lines, [], 'an answered query logs nothing at warn');
        continue;
      }
      const done = lines.find((l) => l.msg === 'request completed');
      assert.ok(done, out.join('\n'));
      assert.equal(done.keyId, 'client');
      assert.equal(done.deployment, 'rs');
    } finally {
      await app.close();
    }
  }
});
