// The one retry loop (shared/src/retry.ts): how many attempts, which failures, the back-off, a
// server's Retry-After, and the readiness wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryAfter, retry, until } from '@rs-arena/shared/retry';

class Flaky extends Error {}

test('retry: a failing attempt is tried retries + 1 times with an exponential back-off, then its error is thrown', async () => {
  const at: number[] = [];
  const t0 = performance.now();
  await assert.rejects(
    retry(
      async (n) => {
        at.push(performance.now() - t0);
        throw new Flaky(`attempt ${n}`);
      },
      { retries: 3, baseMs: 20 },
    ),
    (err) => err instanceof Flaky && err.message === 'attempt 3',
  );
  assert.equal(at.length, 4);
  // Waits of 20, 40, 80 ms between the attempts (timers fire no earlier than asked).
  const gaps = at.slice(1).map((t, i) => t - at[i]);
  gaps.forEach((gap, k) => assert.ok(gap >= 20 * 2 ** k - 2, `wait ${k} was ${gap.toFixed(1)} ms, at least ${20 * 2 ** k} expected`));
});

test('retry: the first success is returned; an error that is not retryable is thrown at once', async () => {
  let calls = 0;
  assert.equal(
    await retry(
      async (n) => {
        calls++;
        if (n < 2) throw new Flaky('not yet');
        return 'ok';
      },
      { retries: 5, baseMs: 1 },
    ),
    'ok',
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new TypeError('a bug, not a flaky network');
      },
      { retries: 5, baseMs: 1, retryable: (err) => err instanceof Flaky },
    ),
    TypeError,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw new Flaky('never');
      },
      { retries: 0, baseMs: 1 },
    ),
    Flaky,
  );
  assert.equal(calls, 1, 'retries: 0 is one attempt');
});

test('retry: RetryAfter waits the time it names, uses no retry and starts the back-off over', async () => {
  // Failures F, a Retry-After R: F F R F F ok with retries: 2 succeeds only if R reset the count.
  const script = ['F', 'F', 'R', 'F', 'F', 'ok'];
  const at: number[] = [];
  const t0 = performance.now();
  const result = await retry(
    async (n) => {
      at.push(performance.now() - t0);
      if (script[n] === 'F') throw new Flaky('down');
      if (script[n] === 'R') throw new RetryAfter(60);
      return n;
    },
    { retries: 2, baseMs: 1 },
  );
  assert.equal(result, 5);
  assert.ok(at[3] - at[2] >= 58, `the Retry-After wait was ${(at[3] - at[2]).toFixed(1)} ms, 60 asked`);
  // Without the reset, the same script fails on its fourth failure.
  await assert.rejects(
    retry(
      async (n) => {
        if (['F', 'F', 'F', 'F', 'F', 'ok'][n] === 'F') throw new Flaky('down');
        return n;
      },
      { retries: 2, baseMs: 1 },
    ),
    Flaky,
  );
});

test('retry: an aborted signal ends the wait with its reason', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('shutting down')), 30);
  const t0 = performance.now();
  await assert.rejects(
    retry(
      async () => {
        throw new Flaky('down');
      },
      { retries: 3, baseMs: 10_000, signal: controller.signal },
    ),
    /shutting down/,
  );
  assert.ok(performance.now() - t0 < 5_000, 'the 10 s back-off was cut short');
});

test('until: polls until true (errors mean not yet), times out with the message, stops when aborted', async () => {
  let polls = 0;
  await until(
    async () => {
      polls++;
      if (polls === 1) throw new Error('connection refused');
      return polls >= 3;
    },
    { intervalMs: 5, timeoutMs: 5_000, message: () => 'never ready' },
  );
  assert.equal(polls, 3);

  const t0 = performance.now();
  await assert.rejects(
    until(async () => false, { intervalMs: 10, timeoutMs: 60, message: () => 'not ready in 60 ms' }),
    /not ready in 60 ms/,
  );
  const took = performance.now() - t0;
  assert.ok(took >= 55 && took < 2_000, `timed out after ${took.toFixed(0)} ms`);

  const exited = new AbortController();
  setTimeout(() => exited.abort(new Error('the server exited with code 1')), 20);
  await assert.rejects(
    until(async () => false, { intervalMs: 5, timeoutMs: 10_000, message: () => 'timeout', signal: exited.signal }),
    /exited with code 1/,
  );
});
