// The operator's and evaluator's side of the API, for experiments: create the deployments a sweep
// needs, read vote counts, certify. Never used by an attack (an attacker has none of these rights).
import { Pool } from 'undici';
import type { z } from 'zod';
import {
  AllUsage,
  CertifyResponse,
  DeploymentInfo,
  DeploymentSpec,
  DeploymentSpecList,
  DetectionList,
  KeyCreated,
  Removed,
  UsageResponse,
  VotesResponse,
  type Budgets,
  type DeploymentSpecInput,
} from '@rs-arena/shared/api';
import { encodeTensorJson, float32ToBytes } from '@rs-arena/shared/tensor';
import { retry } from '@rs-arena/shared/retry';
import { HttpError, IDEMPOTENCY_HEADER, newIdempotencyKey, withNetworkRetries } from './oracle-http.js';
import { errorBody, parseResponse } from './response.js';

/** The votes route's early stop: compare the votes with `label`; decided at `wrong` differing votes, or ⌈n·Pa⌉. */
export interface VotesStop {
  label: number;
  wrong?: number;
  Pa?: number;
}

export class ServerAdmin {
  private readonly pool: Pool;

  constructor(
    readonly endpoint: string,
    private readonly key: string,
  ) {
    this.pool = new Pool(endpoint, { connections: 4 });
  }

  /** JSON in, and out parsed with the route's response `schema`; a Uint8Array body goes as application/octet-stream. */
  private async call<S extends z.ZodType>(schema: S, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<z.output<S>> {
    const binary = body instanceof Uint8Array;
    // Votes and certify are charged: one id per call, reused by its retries, so a retry is answered
    // from the server's kept answer and charged once (the other calls are safe to repeat anyway).
    const idempotency = method === 'POST' ? { [IDEMPOTENCY_HEADER]: newIdempotencyKey() } : {};
    const send = async () => {
      const res = await this.pool.request({
        method,
        path,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body !== undefined ? { 'content-type': binary ? 'application/octet-stream' : 'application/json' } : {}),
          ...idempotency,
        },
        body: body === undefined ? undefined : binary ? body : JSON.stringify(body),
      });
      return { res, text: await res.body.text() };
    };
    const attempt = async () => {
      // A reset keep-alive connection must not end a two-hour sweep: these calls are safe to repeat.
      const { res, text } = await withNetworkRetries(send);
      if (res.statusCode >= 300) {
        const error = errorBody(text);
        throw new HttpError(res.statusCode, error?.error ?? 'http_error', `HTTP ${res.statusCode} from ${method} ${path}: ${error?.message ?? text}`);
      }
      return text;
    };
    // Our own first attempt still runs on the server (its connection was reset): wait for its answer.
    const inProgress = (err: unknown) => err instanceof HttpError && err.status === 409 && err.code === 'request_in_progress';
    const text = await retry(attempt, { retries: 8, baseMs: 100, retryable: inProgress });
    return parseResponse(schema, text, `${method} ${path}`);
  }

  async deployments(): Promise<DeploymentSpec[]> {
    return (await this.call(DeploymentSpecList, 'GET', '/v1/admin/deployments')).deployments;
  }

  /** Creates the deployment unless one with the same settings exists; true when this call created (or replaced) it. */
  async ensureDeployment(spec: DeploymentSpecInput): Promise<boolean> {
    const existing = (await this.deployments()).find((d) => d.id === spec.id);
    if (existing) {
      const differs = (Object.keys(spec) as (keyof DeploymentSpecInput)[]).some((k) => JSON.stringify(existing[k]) !== JSON.stringify(spec[k]));
      if (!differs) return false;
      await this.call(Removed, 'DELETE', `/v1/admin/deployments/${encodeURIComponent(spec.id)}`);
    }
    try {
      await this.call(DeploymentSpec, 'POST', '/v1/admin/deployments', spec);
    } catch (err) {
      // Created meanwhile by another caller (two submitters of one queued campaign): the same settings stand.
      if (!(err instanceof HttpError && err.status === 409)) throw err;
      const now = (await this.deployments()).find((d) => d.id === spec.id);
      if (!now || (Object.keys(spec) as (keyof DeploymentSpecInput)[]).some((k) => JSON.stringify(now[k]) !== JSON.stringify(spec[k]))) throw err;
      return false;
    }
    return true;
  }

  async removeDeployment(id: string): Promise<void> {
    await this.call(Removed, 'DELETE', `/v1/admin/deployments/${encodeURIComponent(id)}`);
  }

  /**
   * Micro-decision counts per class for each input (evaluator role), with `n` samples each. With
   * `stop`, each input's sampling ends once `wrong` votes (or ⌈n·Pa⌉) differ from `label`, or once
   * that can no longer happen; the answer's `passes` says how many each input took.
   */
  async votes(deployment: string, inputs: Float32Array, shape: number[], n?: number, stop?: VotesStop): Promise<VotesResponse> {
    // Binary bodies, split to the deployment's maxBatch (ImageNet inputs are 600 kB each).
    const size = shape.slice(1).reduce((a, b) => a * b, 1);
    const count = inputs.length / size;
    const max = await this.maxBatch(deployment);
    let out: VotesResponse | null = null;
    for (let start = 0; start < count; start += max) {
      const k = Math.min(max, count - start);
      const query = new URLSearchParams();
      if (n) query.set('n', String(n));
      if (stop) {
        query.set('label', String(stop.label));
        if (stop.wrong !== undefined) query.set('wrong', String(stop.wrong));
        if (stop.Pa !== undefined) query.set('Pa', String(stop.Pa));
      }
      const path = `/v1/deployments/${encodeURIComponent(deployment)}/votes${query.size ? `?${query}` : ''}`;
      const res = await this.call(VotesResponse, 'POST', path, float32ToBytes(inputs.subarray(start * size, (start + k) * size)));
      out = out ? { ...res, counts: [...out.counts, ...res.counts], ...(res.passes ? { passes: [...(out.passes ?? []), ...res.passes] } : {}) } : res;
    }
    return out ?? { sigma: 0, n: n ?? 0, counts: [], usage: { used: 0, limit: null, remaining: null } };
  }

  private readonly maxBatches = new Map<string, number>();

  private async maxBatch(deployment: string): Promise<number> {
    let m = this.maxBatches.get(deployment);
    if (m === undefined) {
      m = (await this.call(DeploymentInfo, 'GET', `/v1/deployments/${encodeURIComponent(deployment)}`)).maxBatch;
      this.maxBatches.set(deployment, m);
    }
    return m;
  }

  async certify(deployment: string, inputs: Float32Array, shape: number[], params: { n0?: number; n?: number; alpha?: number } = {}): Promise<CertifyResponse> {
    return this.call(CertifyResponse, 'POST', `/v1/deployments/${encodeURIComponent(deployment)}/certify`, {
      inputs: encodeTensorJson(inputs, shape),
      ...params,
    });
  }

  /** Creates a key (admin); its secret is returned once. */
  async createKey(id: string, role: 'client' | 'evaluator' | 'admin', budgets: z.input<typeof Budgets> = {}): Promise<z.output<typeof KeyCreated>> {
    return this.call(KeyCreated, 'POST', '/v1/admin/keys', { id, role, budgets });
  }

  /** Revokes a key (admin); a key that is not there is not an error. */
  async removeKey(id: string): Promise<void> {
    try {
      await this.call(Removed, 'DELETE', `/v1/admin/keys/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    }
  }

  /** Every key's usage, forward passes included (admin). */
  async allUsage(): Promise<UsageResponse[]> {
    return (await this.call(AllUsage, 'GET', '/v1/admin/usage')).keys;
  }

  /** The keys a deployment's detector flagged, with their detected queries (admin). */
  async detections(deployment: string): Promise<DetectionList['keys']> {
    return (await this.call(DetectionList, 'GET', `/v1/admin/deployments/${encodeURIComponent(deployment)}/detections`)).keys;
  }

  async usage(): Promise<UsageResponse> {
    return this.call(UsageResponse, 'GET', '/v1/usage');
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
