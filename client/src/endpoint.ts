// Any HTTP inference endpoint as the attack client reaches it: a base URL that may carry a path
// prefix (http://host:port/prefix/… behind a gateway), extra headers for whatever auth scheme the
// target uses (`--header 'Name: value'`, repeatable; `--key` is only a Bearer shorthand), and the
// status codes that matter to a counted attack: a 429 with Retry-After is a rate limit and is waited
// out (bounded), a 429 without it is a budget refusal (BudgetRefused: the attack ends, nothing was
// charged), a 403 from a stateful detector (`query_refused`, `key_suspended`) a refusal that WAS
// charged (QueryRefused, never retried), 503 and network errors are retried with back-off. This is the client's one HTTP stack:
// every protocol (client/src/protocols/) sends through it, so these behaviours are the same on all.
// Every POST carries an Idempotency-Key, one random id per logical request reused by its retries:
// a retry after a reset connection gets the answer a server that honours the header (rs-arena's
// /v1 and /v2) already gave, charged once, so client and server counts stay equal.
import { randomUUID } from 'node:crypto';
import { Pool, errors as undiciErrors } from 'undici';
import { ServerMetadata } from '@rs-arena/shared/oip';
import { RetryAfter, retry } from '@rs-arena/shared/retry';
import { BudgetRefused, QueryRefused } from './oracle.js';
import { ResponseError } from './response.js';

export class HttpError extends Error {
  override name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A fresh request id: random, so no two logical requests share one. */
export const newIdempotencyKey = (): string => randomUUID();

export class EndpointError extends Error {
  override name = 'EndpointError';
}

/** `http(s)://host:port[/prefix]` → the pool's origin and the prefix every path starts with. */
export function parseEndpoint(url: string): { origin: string; prefix: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EndpointError(`invalid endpoint URL "${url}" (expected http://host:port[/prefix])`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new EndpointError(`endpoint URL "${url}": only http and https are supported`);
  if (u.search || u.hash) throw new EndpointError(`endpoint URL "${url}": no query string or fragment (put credentials in --header)`);
  if (u.username || u.password) throw new EndpointError(`endpoint URL "${url}": no credentials in the URL (use --header or --key)`);
  return { origin: u.origin, prefix: u.pathname.replace(/\/+$/, '') };
}

/** `Name: value` lines → a header object; the name must be an HTTP token. */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, Math.max(colon, 0)).trim();
    if (colon < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new EndpointError(`--header expects 'Name: value', got "${line}"`);
    out[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

export interface EndpointOptions {
  url: string;
  /** Sent with every request (auth of any scheme). */
  headers?: Record<string, string>;
  /** Shorthand for `authorization: Bearer <key>` (a --header authorization wins). */
  key?: string;
  connections?: number;
  retries?: number;
  backoffMs?: number;
  /** Longest total wait for rate limits (429 + Retry-After) of one request. */
  maxRateLimitWaitMs?: number;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class Endpoint {
  readonly origin: string;
  readonly prefix: string;
  readonly headers: Record<string, string>;
  private readonly pool: Pool;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxRateLimitWaitMs: number;

  constructor(readonly options: EndpointOptions) {
    ({ origin: this.origin, prefix: this.prefix } = parseEndpoint(options.url));
    this.headers = { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...(options.headers ?? {}) };
    this.pool = new Pool(this.origin, { connections: options.connections ?? 8, keepAliveTimeout: 30_000 });
    this.retries = options.retries ?? 5;
    this.backoffMs = options.backoffMs ?? 100;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
  }

  get url(): string {
    return this.origin + this.prefix;
  }

  /** One request; any status is returned as is (network errors retried). */
  async raw(method: 'GET' | 'POST', path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
    const send = async () => {
      const res = await this.pool.request({ method, path: this.prefix + path || '/', headers: { ...this.headers, ...headers }, body });
      return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
    };
    // A POST without an Idempotency-Key is retried only when it surely never reached the server:
    // a retry must not be charged twice. With one, the server answers a retry from what it kept.
    return retry(send, { retries: this.retries, baseMs: this.backoffMs, retryable: (err) => retryable(err, method, IDEMPOTENCY_HEADER in headers) });
  }

  /**
   * A request that must succeed: 200 returned; 503 retried; 429 with Retry-After waited out
   * (bounded); 429 without it → BudgetRefused; any other status → HttpError with the server's message.
   */
  async call(method: 'GET' | 'POST', path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
    let waited = 0;
    // One id for this logical request, the same on every retry of it.
    if (method === 'POST' && !(IDEMPOTENCY_HEADER in headers)) headers = { ...headers, [IDEMPOTENCY_HEADER]: newIdempotencyKey() };
    const attempt = async () => {
      const res = await this.raw(method, path, body, headers);
      if (res.status === 200) return res;
      const message = errorMessage(res);
      if (res.status === 429) {
        const wait = retryAfterMs(res.headers['retry-after']);
        if (wait === null) throw new BudgetRefused(`server refused for budget: ${message}`);
        if (waited + wait > this.maxRateLimitWaitMs) {
          throw new HttpError(
            429,
            'rate_limited',
            `rate limited by ${method} ${this.prefix + path} for longer than ${this.maxRateLimitWaitMs / 1000} s: ${message}`,
          );
        }
        waited += wait;
        throw new RetryAfter(wait); // a rate limit is not a failure: the 503 retries start over
      }
      const refusal = res.status === 403 ? detectorRefusal(res) : undefined;
      if (refusal) throw new QueryRefused(`refused by the endpoint's detector (charged): ${message}`, refusal);
      throw new HttpError(res.status, errorCode(res) ?? 'http_error', `HTTP ${res.status} from ${method} ${this.prefix + path}: ${message}`);
    };
    return retry(attempt, { retries: this.retries, baseMs: this.backoffMs, retryable: unavailable });
  }

  /** GET → JSON; an answer that is not JSON is a ResponseError naming the route. */
  async json(path: string): Promise<unknown> {
    const text = (await this.call('GET', path)).body.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new ResponseError(`GET ${this.prefix + path}: the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The protocol's `{"error"}`, rs-arena's `{error, message}`, or the start of the raw text. */
function errorMessage(res: Answer): string {
  const text = res.body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200);
}

/** rs-arena's `{error: code}` when the body is one (a code is a short identifier, not a sentence). */
function errorCode(res: Answer): string | undefined {
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as { error?: unknown; message?: unknown };
    return typeof parsed.error === 'string' && typeof parsed.message === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A detector's refusal: rs-arena's `{error: 'query_refused' | 'key_suspended', message}` on /v1; on
 * /v2 (the Open Inference Protocol's `{error: message}`) the same refusal read from its message.
 */
function detectorRefusal(res: Answer): string | undefined {
  const code = errorCode(res);
  if (code === 'query_refused' || code === 'key_suspended') return code;
  if (code !== undefined) return undefined;
  const message = errorMessage(res);
  if (/\(stateful detection\): refused and charged/.test(message)) return 'query_refused';
  if (/is suspended on this deployment after \d+ detected queries/.test(message)) return 'key_suspended';
  return undefined;
}

/** Retry-After in seconds or as an HTTP date → ms; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.ceil(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function retryable(err: unknown, method: string, idempotent: boolean): boolean {
  const code = (err as { code?: string }).code ?? '';
  if (method === 'POST' && !idempotent) return code === 'ECONNREFUSED' || err instanceof undiciErrors.ConnectTimeoutError;
  if (err instanceof undiciErrors.UndiciError) return !(err instanceof undiciErrors.RequestAbortedError);
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code);
}

/**
 * Worth asking again later: 503 (the server or its state store is unavailable) or 409
 * request_in_progress (our own earlier attempt of this Idempotency-Key still runs).
 */
const unavailable = (err: unknown) => err instanceof HttpError && (err.status === 503 || (err.status === 409 && err.code === 'request_in_progress'));

/** `send()`, repeated with exponential back-off while it fails with a network error (at most `retries` times). */
export function withNetworkRetries<T>(send: () => Promise<T>, retries = 4, backoffMs = 100): Promise<T> {
  return retry(send, { retries, baseMs: backoffMs, retryable: (err) => retryable(err, 'GET', true) });
}

type Protocol = 'v1' | 'v2';

/**
 * Which protocol an endpoint speaks: an Open Inference Protocol server answers GET {prefix}/v2 with
 * its metadata. rs-arena speaks both; given a key, its richer /v1 (disclosed smoothing, class names) is used.
 */
export async function detectProtocol(endpoint: Endpoint, hasKey: boolean): Promise<{ protocol: Protocol; server?: ServerMetadata }> {
  let res: Answer;
  try {
    res = await endpoint.raw('GET', '/v2');
  } catch {
    return { protocol: 'v1' };
  }
  if (res.status !== 200) return { protocol: 'v1' };
  let parsed;
  try {
    parsed = ServerMetadata.safeParse(JSON.parse(res.body.toString('utf8')));
  } catch {
    return { protocol: 'v1' };
  }
  if (!parsed.success) return { protocol: 'v1' };
  return { protocol: parsed.data.name === 'rs-arena' && hasKey ? 'v1' : 'v2', server: parsed.data };
}
