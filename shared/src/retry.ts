// The one retry loop of the project (client requests, the server's remote base model, waiting for a
// server to be ready): an attempt tried again after an exponential back-off while its failure is
// worth another try, and a server's "ask again in t" (Retry-After) waited out without using a retry.
// Not undici's RetryAgent: what is retried here depends on more than a status code (the body's
// error code, whether a POST carries an Idempotency-Key, a 429 without Retry-After being a budget
// refusal, a bound on the total rate-limit wait), which the caller decides in its attempt.

export interface RetryOptions {
  /** Retries after the first attempt (0: one attempt). */
  retries: number;
  /** Back-off before retry k (k = 0, 1, …): baseMs · 2^k. */
  baseMs: number;
  /** Whether a thrown error is worth another attempt (default: every error). */
  retryable?: (err: unknown) => boolean;
  /** Ends the waits early: the loop then throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Thrown by an attempt that was told when to ask again (a 429 with Retry-After): the loop waits
 * `ms`, then tries again without counting it as a failure (the back-off starts over). The attempt
 * bounds these waits itself (it knows what it waited so far).
 */
export class RetryAfter extends Error {
  constructor(readonly ms: number) {
    super(`retry after ${ms} ms`);
  }
}

/** `attempt(n)` (n: attempts made before), again while it fails with a retryable error and retries remain. */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  let failures = 0;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (err instanceof RetryAfter) {
        await sleep(err.ms, options.signal);
        failures = 0;
        continue;
      }
      if (failures >= options.retries || !(options.retryable?.(err) ?? true)) throw err;
      await sleep(options.baseMs * 2 ** failures++, options.signal);
    }
  }
}

/**
 * Polls `check` every `intervalMs` until it returns true; false or a thrown error mean "not yet".
 * Rejects with `message()` after `timeoutMs`, or with the signal's reason once it aborts (e.g. the
 * process being waited for exited).
 */
export async function until(
  check: () => Promise<boolean>,
  o: { intervalMs: number; timeoutMs: number; message: () => string; signal?: AbortSignal },
): Promise<void> {
  const end = Date.now() + o.timeoutMs;
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() >= end) throw new Error(o.message());
    await sleep(Math.min(o.intervalMs, Math.max(0, end - Date.now())), o.signal);
  }
}

/** setTimeout as a promise that an abort signal ends early (rejecting with its reason). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((resolve) => setTimeout(resolve, ms));
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
