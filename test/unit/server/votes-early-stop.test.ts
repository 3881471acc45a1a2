// The votes route's early stop (label with wrong or Pa): each input's sampling stops once its
// answer against the label is decided, the answer says how many passes each input took, and only
// those are counted. Bad option values are a 400 naming the field, with nothing charged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { testApp, auth, binary, images, KEYS } from '../../helpers/app.js';
import { ServerAdmin } from '../../../client/src/admin.js';

let app: FastifyInstance;
before(async () => {
  app = await testApp();
});
after(() => app.close());

const votes = (query: string, count = 4) => {
  const body = binary(images(count).values);
  return app.inject({ method: 'POST', url: `/v1/deployments/rs/votes${query}`, headers: { ...auth('evaluator'), ...body.headers }, payload: body.payload });
};
const usage = async () =>
  (await app.inject({ url: '/v1/usage', headers: auth('evaluator') })).json().deployments.find((d: { deployment: string }) => d.deployment === 'rs') ?? {
    queries: 0,
    forwardPasses: 0,
  };

test('an early stop decides each input with fewer passes and counts only those', async () => {
  const { labels } = images(8);
  const before = await usage();
  const n = 200;
  // Against each image's own label at P_a = 0.5: k = 100 wrong votes make it adversarial.
  const results = await Promise.all(
    labels.map((label, i) => {
      const body = binary(images(1, i).values);
      return app.inject({
        method: 'POST',
        url: `/v1/deployments/rs/votes?n=${n}&label=${label}&Pa=0.5`,
        headers: { ...auth('evaluator'), ...body.headers },
        payload: body.payload,
      });
    }),
  );
  let passes = 0;
  for (const [i, res] of results.entries()) {
    assert.equal(res.statusCode, 200, res.body);
    const { counts, passes: made, n: asked } = res.json();
    assert.equal(asked, n);
    const right = counts[0][labels[i]];
    const wrong = made[0] - right;
    assert.equal(
      counts[0].reduce((a: number, b: number) => a + b, 0),
      made[0],
    );
    assert.ok((wrong === 100 && right <= 100) || (right === 101 && wrong < 100), `image ${i}: ${wrong} wrong, ${right} right in ${made[0]} passes`);
    passes += made[0];
  }
  assert.ok(passes < labels.length * n, `${passes} passes for ${labels.length} inputs at n = ${n}`);
  const after = await usage();
  assert.equal(after.queries - before.queries, labels.length);
  assert.equal(after.forwardPasses - before.forwardPasses, passes, 'forward passes counted as made');
});

test('without the option, votes answer as before (no passes field, n passes each)', async () => {
  const res = await votes('?n=30', 2);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().passes, undefined);
  for (const c of res.json().counts)
    assert.equal(
      c.reduce((a: number, b: number) => a + b, 0),
      30,
    );
});

test('bad early-stop options are a 400 naming the field, and nothing is charged', async () => {
  const before = await usage();
  const cases: [string, RegExp][] = [
    ['?label=3', /label/],
    ['?wrong=5', /label/],
    ['?Pa=0.5', /label/],
    ['?label=3&wrong=5&Pa=0.5', /wrong.*Pa/],
    ['?label=10&Pa=0.5', /label.*10/],
    ['?n=100&label=1&wrong=101', /wrong/],
    ['?label=1&Pa=1.5', /Pa/],
    ['?label=1&Pa=0', /Pa/],
    ['?label=-1&Pa=0.5', /label/],
    ['?label=1&wrong=0x5', /wrong/],
  ];
  for (const [query, field] of cases) {
    const res = await votes(query, 1);
    assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
    assert.match(res.json().message, field, query);
  }
  assert.deepEqual(await usage(), before);
});

test("the client's ServerAdmin.votes passes the early stop and reads the passes", async () => {
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const admin = new ServerAdmin(url, KEYS.evaluator);
  try {
    const { values, labels } = images(3);
    const res = await admin.votes('rs', values, [3, 1, 28, 28], 100, { label: labels[0], Pa: 0.5 });
    assert.equal(res.counts.length, 3);
    assert.equal(res.passes?.length, 3);
    res.counts.forEach((c, i) =>
      assert.equal(
        c.reduce((a, b) => a + b, 0),
        res.passes![i],
      ),
    );
    const plain = await admin.votes('rs', values, [3, 1, 28, 28], 20);
    assert.equal(plain.passes, undefined);
  } finally {
    await admin.close();
  }
});
