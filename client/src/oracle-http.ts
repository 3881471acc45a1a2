// The remote defended endpoint, over HTTP as a real attacker sees it: top-1 labels only. A
// keep-alive undici pool, binary float32 bodies, large batches split to the deployment's maximum,
// retries with exponential back-off on network errors and 503 only (never on another 4xx: a bad
// request will not get better), and a 429 "budget exhausted" surfaced as BudgetExhausted so the
// attack stops cleanly with its best result. Every POST carries an Idempotency-Key, one random id
// per request reused by its retries: a retry after a reset connection gets the answer the server
// already gave (same labels), charged once, so client and server counts stay equal.
import { randomUUID } from 'node:crypto';
import { Pool, errors as undiciErrors } from 'undici';
import type { z } from 'zod';
import { DeploymentInfo, PredictResponse, UsageResponse } from '@rs-arena/shared/api';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { BudgetRefused, type Oracle } from './oracle.js';
import { errorBody, parseResponse } from './response.js';

export interface HttpOracleOptions {
  endpoint: string;
  key: string;
  deployment: string;
  retries?: number;
  /** First back-off delay in ms, doubled per retry. */
  backoffMs?: number;
  connections?: number;
}

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export class HttpOracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  /** What the server reported after the last call: queries used, limit, remaining. */
  lastUsage: PredictResponse['usage'] | undefined;

  private constructor(
    private readonly pool: Pool,
    private readonly o: Required<Omit<HttpOracleOptions, 'connections'>>,
    readonly info: DeploymentInfo,
  ) {
    const [c, h, w] = info.inputShape; // three, checked by connect()
    this.inputShape = [c, h, w];
    this.range = info.range;
  }

  /** Connects and reads the deployment's public metadata (shape, range, classes). */
  static async connect(options: HttpOracleOptions): Promise<HttpOracle> {
    const pool = new Pool(options.endpoint, { connections: options.connections ?? 8, keepAliveTimeout: 30_000 });
    const o = { retries: 5, backoffMs: 100, ...options };
    const info = await request(pool, o, DeploymentInfo, 'GET', `/v1/deployments/${encodeURIComponent(o.deployment)}`);
    if (info.inputShape.length !== 3) {
      await pool.close();
      throw new Error(`deployment "${o.deployment}" takes inputs of shape [${info.inputShape}], not [C, H, W]`);
    }
    return new HttpOracle(pool, o, info);
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const size = this.inputShape.reduce((a, b) => a * b, 1);
    const out = new Int32Array(count);
    for (let start = 0; start < count; start += this.info.maxBatch) {
      const k = Math.min(this.info.maxBatch, count - start);
      const body = float32ToBytes(batch.subarray(start * size, (start + k) * size));
      let res: PredictResponse;
      try {
        res = await request(this.pool, this.o, PredictResponse, 'POST', `/v1/deployments/${encodeURIComponent(this.o.deployment)}/predict`, body);
      } catch (err) {
        // The parts before this one were answered and charged: say so, the caller un-books the rest only.
        if (err instanceof BudgetRefused) throw new BudgetRefused(err.message, start);
        throw err;
      }
      if (res.labels.length !== k) throw new Error(`server answered ${res.labels.length} labels for ${k} inputs`);
      out.set(res.labels, start);
      this.lastUsage = res.usage;
    }
    return out;
  }

  /** The caller's usage as the server counts it. */
  usage(): Promise<UsageResponse> {
    return request(this.pool, this.o, UsageResponse, 'GET', '/v1/usage');
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** One call, retried on network errors and 503; a 200 is parsed with `schema`, the route's response in shared/src/api.ts. */
async function request<S extends z.ZodType>(pool: Pool, o: Required<Omit<HttpOracleOptions, 'connections'>>, schema: S, method: 'GET' | 'POST', path: string, body?: Uint8Array): Promise<z.output<S>> {
  // One id for this logical request, the same on every retry of it.
  const idempotency = method === 'POST' ? { [IDEMPOTENCY_HEADER]: newIdempotencyKey() } : {};
  for (let attempt = 0; ; attempt++) {
    let status: number;
    let text: string;
    try {
      const res = await pool.request({
        method,
        path,
        headers: { authorization: `Bearer ${o.key}`, ...(body ? { 'content-type': 'application/octet-stream' } : {}), ...idempotency },
        body,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (attempt < o.retries && isNetworkError(err)) {
        await sleep(o.backoffMs * 2 ** attempt);
        continue;
      }
      throw err;
    }
    if (status === 200) return parseResponse(schema, text, `${method} ${path}`);
    const error = errorBody(text);
    // 503: the server (or its state store) is unavailable; 409 request_in_progress: our own earlier attempt still runs.
    if ((status === 503 || (status === 409 && error?.error === 'request_in_progress')) && attempt < o.retries) {
      await sleep(o.backoffMs * 2 ** attempt);
      continue;
    }
    const message = error?.message ?? text.slice(0, 200);
    // The server's budget for this key: the same stop reason as over /v2 (budget-refused), not the attack's own budget.
    if (status === 429) throw new BudgetRefused(`server: ${message}`);
    throw new HttpError(status, error?.error ?? 'http_error', `HTTP ${status} from ${method} ${path}: ${message}`);
  }
}

function isNetworkError(err: unknown): boolean {
  if (err instanceof undiciErrors.UndiciError) return !(err instanceof undiciErrors.RequestAbortedError);
  const code = (err as { code?: string }).code ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A fresh request id: random, so no two logical requests share one. */
export const newIdempotencyKey = (): string => randomUUID();

/** `send()`, repeated with exponential back-off while it fails with a network error (at most `retries` times). */
export async function withNetworkRetries<T>(send: () => Promise<T>, retries = 4, backoffMs = 100): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= retries || !isNetworkError(err)) throw err;
      await sleep(backoffMs * 2 ** attempt);
    }
  }
}
