// The protocol table's pieces that need no model: the JSON adapter's template and label path, class
// names, and the one split-batch loop: one-input requests sent several at a time still count
// exactly what the server answered when it refuses half-way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpOracle } from '../../../client/src/oracle-http.js';
import { BudgetRefused, CountingOracle } from '../../../client/src/oracle.js';
import { parsePath, parseTemplate, select } from '../../../client/src/protocols/json.js';
import { ProtocolUsageError } from '../../../client/src/protocols/index.js';
import { topClass } from '../../../client/src/protocols/torchserve.js';
import { encode, parseEncoding } from '../../../client/src/encoding.js';

test('json: template placeholder and label paths', () => {
  assert.deepEqual(parseTemplate('{"a": 1, "image": "$INPUT"}'), { before: '{"a": 1, "image": ', after: '}' });
  assert.throws(() => parseTemplate('{"image": "$IMAGE"}'), ProtocolUsageError);
  assert.throws(() => parseTemplate('{"a": "$INPUT", "b": "$INPUT"}'), /more than once/);
  assert.deepEqual(parsePath('$.predictions[0].class'), ['predictions', 0, 'class']);
  assert.deepEqual(parsePath("$['top-1'][2]"), ['top-1', 2]);
  assert.deepEqual(parsePath('label'), ['label']);
  assert.throws(() => parsePath('$..x'), ProtocolUsageError);
  assert.equal(select({ predictions: [{ class: 'cat' }] }, ['predictions', 0, 'class']), 'cat');
  assert.equal(select({ predictions: { 0: 'x' } }, ['predictions', 0]), undefined, 'an index needs an array');
  assert.equal(select({ a: 1 }, ['b']), undefined);
  assert.equal(topClass({ cat: 0.2, dog: 0.7, cow: 0.1 }, ['cat', 'dog', 'cow'], 'x'), 1);
  assert.equal(topClass('3', undefined, 'x'), 3);
  assert.equal(topClass([0.1, 0.5, 0.5], undefined, 'x'), 1, 'ties to the lowest index');
  assert.throws(() => topClass('horse', ['cat'], 'x'), /"horse" is not in the classes file/);
});

test('png and jpeg snap the batch in place to what is sent; float32 leaves it', async () => {
  const x = Float32Array.from({ length: 2 * 16 }, (_, i) => (i * 0.0371) % 1);
  const same = x.slice();
  await encode({ name: 'float32' }, same, 2, [1, 4, 4], [0, 1]);
  assert.deepEqual(same, x);
  const png = x.slice();
  const { images } = await encode(parseEncoding('png'), png, 2, [1, 4, 4], [0, 1]);
  assert.equal(images.length, 2);
  for (let i = 0; i < x.length; i++) assert.equal(png[i], Math.fround(Math.round(x[i] * 255) / 255));
  const jpeg = x.slice();
  await encode(parseEncoding('jpeg:50'), jpeg, 2, [1, 4, 4], [0, 1]);
  assert.ok(
    jpeg.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4),
    'decoded bytes',
  );
  assert.ok(
    jpeg.some((v, i) => v !== png[i]),
    'JPEG at quality 50 is lossy beyond rounding',
  );
  assert.throws(() => parseEncoding('jpeg:0'), /quality/);
  assert.throws(() => parseEncoding('webp'), /--encoding must be one of/);
});

test('one-input requests in flight together: a refusal half-way books exactly what the server answered', async () => {
  let answered = 0;
  const budget = 7;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answered >= budget) return res.writeHead(429, { 'content-type': 'application/json' }).end('{"message":"quota exhausted"}');
      answered++;
      // Answers at staggered times, so parts finish out of order.
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"label": 1}'), 5 * (answered % 3));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/classify`;
  const oracle = await HttpOracle.connect({
    protocol: 'json',
    endpoint: url,
    deployment: 'x',
    inputShape: [1, 4, 4],
    template: '{"x": "$INPUT"}',
    labelPath: '$.label',
    connections: 4,
  });
  try {
    const counting = new CountingOracle(oracle, 0, 100);
    assert.deepEqual(Array.from(await counting.labels(new Float32Array(5 * 16), 5)), [1, 1, 1, 1, 1]);
    await assert.rejects(counting.labels(new Float32Array(10 * 16), 10), (err) => err instanceof BudgetRefused && err.charged === 2);
    assert.equal(answered, 7);
    assert.equal(counting.queries, 7, 'the client books what the server answered, no more, no less');
  } finally {
    await oracle.close();
    server.close();
  }
});
