// The Open Inference Protocol codec (shared/src/oip.ts) on its own: JSON and binary tensors round
// trip for each handled datatype, Triton's example message decodes, and the endpoint helpers of
// the client parse URLs with prefixes, headers and Retry-After.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HEADER_LENGTH,
  OipFormatError,
  decodeInferRequest,
  decodeInferResponse,
  encodeInferRequest,
  encodeInferResponse,
  wantsBinary,
  type OutgoingTensor,
} from '@rs-arena/shared/oip';
import { parseEndpoint, parseHeaders, retryAfterMs } from '../../client/src/endpoint.js';

const tensors = (binary: boolean): OutgoingTensor[] => [
  { name: 'f', datatype: 'FP32', shape: [2, 3], data: Float32Array.from([0.5, -1.25, 3, 1e-8, 0, 7]), binary },
  { name: 'i', datatype: 'INT64', shape: [3, 1], data: BigInt64Array.from([-1n, 0n, 9007199254740991n]), binary },
  { name: 'b', datatype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]), binary },
  { name: 'u', datatype: 'UINT16', shape: [1, 2], data: Uint16Array.from([65535, 3]), binary },
  { name: 'd', datatype: 'FP64', shape: [1], data: Float64Array.from([Math.PI]), binary },
];

test('requests and responses round trip as JSON and as binary tensor data, every datatype', () => {
  for (const binary of [false, true]) {
    const req = encodeInferRequest({ id: 'x', parameters: { p: 1 }, outputs: [{ name: 'o' }] }, tensors(binary));
    assert.equal(req.headers[HEADER_LENGTH] !== undefined, binary);
    const { request, inputs } = decodeInferRequest(req.body, req.headers[HEADER_LENGTH]);
    assert.equal(request.id, 'x');
    assert.deepEqual(request.outputs, [{ name: 'o' }]);
    for (const [i, t] of tensors(binary).entries()) {
      assert.equal(inputs[i].name, t.name);
      assert.deepEqual(inputs[i].shape, t.shape);
      assert.deepEqual(Array.from(inputs[i].data as ArrayLike<number>), Array.from(t.data as ArrayLike<number>), `${t.datatype} binary=${binary}`);
    }
    const res = encodeInferResponse({ model_name: 'm', id: 'x' }, tensors(binary));
    const { response, outputs } = decodeInferResponse(res.body, res.headers[HEADER_LENGTH]);
    assert.equal(response.model_name, 'm');
    assert.deepEqual(
      outputs.map((o) => o.datatype),
      ['FP32', 'INT64', 'BOOL', 'UINT16', 'FP64'],
    );
  }
});

test("Triton's binary extension example: JSON header, then 16 + 3 bytes", () => {
  const header = Buffer.from(
    JSON.stringify({
      model_name: 'mymodel',
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(Uint32Array.from([1, 2, 3, 4]).buffer), Buffer.from([1, 0, 1])]);
  const { request, inputs } = decodeInferRequest(body, String(header.length));
  assert.deepEqual(Array.from(inputs[0].data as Uint32Array), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(inputs[1].data as Uint8Array), [1, 0, 1]);
  assert.equal(wantsBinary(request, 'output0'), true);
  assert.equal(
    wantsBinary({ ...request, parameters: { binary_data_output: true }, outputs: [{ name: 'output0', parameters: { binary_data: false } }] }, 'output0'),
    false,
  );
  assert.equal(wantsBinary({ ...request, parameters: { binary_data_output: true }, outputs: undefined }, 'output0'), true);
});

test('malformed messages are OipFormatErrors that name the problem', () => {
  const bad: [Uint8Array, string | undefined, RegExp][] = [
    [Buffer.from('{"inputs":[{"name":"a","shape":[2],"datatype":"INT32","data":[1.5,2]}]}'), undefined, /INT32 data must be integers, got 1.5/],
    [Buffer.from('{"inputs":[{"name":"a","shape":[2],"datatype":"BOOL","data":[1,0]}]}'), undefined, /BOOL data must be true or false/],
    [Buffer.from('{"inputs":[{"name":"a","shape":[1],"datatype":"FP16","data":[1]}]}'), undefined, /FP16 is not supported/],
    [Buffer.from('{"inputs":[{"name":"a","shape":[-1],"datatype":"FP32","data":[1]}]}'), undefined, /shape/],
    [Buffer.from('{}xyz'), '-3', /non-negative integer, got "-3"/],
  ];
  for (const [body, header, message] of bad)
    assert.throws(
      () => decodeInferRequest(body, header),
      (e: Error) => e instanceof OipFormatError && message.test(e.message),
    );
});

test('endpoints: a path prefix, headers of any scheme, Retry-After in seconds or as a date', () => {
  assert.deepEqual(parseEndpoint('http://127.0.0.1:8000/team/ml/'), { origin: 'http://127.0.0.1:8000', prefix: '/team/ml' });
  assert.deepEqual(parseEndpoint('https://host'), { origin: 'https://host', prefix: '' });
  assert.throws(() => parseEndpoint('http://h/x?key=1'), /no query string/);
  assert.throws(() => parseEndpoint('http://u:p@h/'), /no credentials in the URL/);
  assert.throws(() => parseEndpoint('nope'), /invalid endpoint URL/);
  assert.deepEqual(parseHeaders(['X-Api-Key: a:b ', 'Authorization: Token t']), { 'x-api-key': 'a:b', authorization: 'Token t' });
  assert.throws(() => parseHeaders(['Bad Name: v']), /--header expects 'Name: value'/);
  assert.equal(retryAfterMs('2'), 2000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(retryAfterMs(undefined), null);
  assert.equal(retryAfterMs('soon'), null);
});
