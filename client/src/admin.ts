// The operator's and evaluator's side of the API, for experiments: create the deployments a sweep
// needs, read vote counts, certify. Never used by an attack (an attacker has none of these rights).
import { Pool } from 'undici';
import type { CertifyResponse, DeploymentSpec, DeploymentSpecInput, UsageResponse, VotesResponse } from '@rs-arena/shared/api';
import { encodeTensorJson } from '@rs-arena/shared/tensor';
import { HttpError } from './oracle-http.js';

export class ServerAdmin {
  private readonly pool: Pool;

  constructor(readonly endpoint: string, private readonly key: string) {
    this.pool = new Pool(endpoint, { connections: 4 });
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) {
      let message = text;
      try {
        message = JSON.parse(text).message ?? text;
      } catch {
        /* raw text */
      }
      throw new HttpError(res.statusCode, 'http_error', `HTTP ${res.statusCode} from ${method} ${path}: ${message}`);
    }
    return JSON.parse(text) as T;
  }

  async deployments(): Promise<DeploymentSpec[]> {
    return (await this.call<{ deployments: DeploymentSpec[] }>('GET', '/v1/admin/deployments')).deployments;
  }

  /** Creates the deployment, or leaves an identical existing one (a resumed sweep). */
  async ensureDeployment(spec: DeploymentSpecInput): Promise<void> {
    const existing = (await this.deployments()).find((d) => d.id === spec.id);
    if (existing) {
      const differs = (Object.keys(spec) as (keyof DeploymentSpecInput)[]).some((k) => JSON.stringify(existing[k]) !== JSON.stringify(spec[k]));
      if (!differs) return;
      await this.call('DELETE', `/v1/admin/deployments/${encodeURIComponent(spec.id)}`);
    }
    await this.call('POST', '/v1/admin/deployments', spec);
  }

  async removeDeployment(id: string): Promise<void> {
    await this.call('DELETE', `/v1/admin/deployments/${encodeURIComponent(id)}`);
  }

  /** Micro-decision counts per class for each input (evaluator role), with `n` samples each. */
  async votes(deployment: string, inputs: Float32Array, shape: number[], n?: number): Promise<VotesResponse> {
    const query = n ? `?n=${n}` : '';
    return this.call('POST', `/v1/deployments/${encodeURIComponent(deployment)}/votes${query}`, { inputs: encodeTensorJson(inputs, shape) });
  }

  async certify(deployment: string, inputs: Float32Array, shape: number[], params: { n0?: number; n?: number; alpha?: number } = {}): Promise<CertifyResponse> {
    return this.call('POST', `/v1/deployments/${encodeURIComponent(deployment)}/certify`, { inputs: encodeTensorJson(inputs, shape), ...params });
  }

  async usage(): Promise<UsageResponse> {
    return this.call('GET', '/v1/usage');
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
