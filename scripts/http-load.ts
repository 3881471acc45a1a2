// The load the server benchmarks put on an rs-arena deployment over HTTP, once for bench:server and
// profile:server: single-input predict queries from `concurrency` clients back to back, and one
// CERTIFY by the evaluator; and what the model's scheduler made of it (its runs, from /metrics).
import type { Pool } from 'undici';

export interface Load {
  queries: number;
  queriesPerSecond: number;
  p50ms: number;
  p90ms: number;
}

/**
 * `concurrency` clients send `body` (float32 inputs) to the deployment's predict back to back for
 * `seconds` (or until `stop()`). The rate divides by the time until the last answer: a slow query
 * (ImageNet at n = 100 takes seconds) ends after the window.
 */
export async function load(
  pool: Pool,
  deployment: string,
  body: Uint8Array,
  concurrency: number,
  key: string,
  seconds: number,
  stop?: () => boolean,
): Promise<Load> {
  let queries = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (stop ? !stop() : performance.now() < end) {
        const t = performance.now();
        await predictOnce(pool, deployment, body, key);
        latencies.push(performance.now() - t);
        queries++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    queries,
    queriesPerSecond: queries / elapsed,
    p50ms: latencies[Math.floor(latencies.length / 2)],
    p90ms: latencies[Math.floor(latencies.length * 0.9)],
  };
}

/** One predict request of `body` (float32 octet-stream) by `key`; throws unless it is answered (200). */
export async function predictOnce(pool: Pool, deployment: string, body: Uint8Array, key: string): Promise<void> {
  const res = await pool.request({
    path: `/v1/deployments/${deployment}/predict`,
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`predict on ${deployment}: HTTP ${res.statusCode} ${text}`);
}

/** One CERTIFY (n0 = 100, `n` samples, α = 0.001) of `body` by `evaluatorKey`: its wall time in seconds. */
export async function certifyOnce(pool: Pool, deployment: string, body: Uint8Array, evaluatorKey: string, n: number): Promise<number> {
  const t = performance.now();
  const res = await pool.request({
    path: `/v1/deployments/${deployment}/certify?n0=100&n=${n}&alpha=0.001`,
    method: 'POST',
    headers: { authorization: `Bearer ${evaluatorKey}`, 'content-type': 'application/octet-stream' },
    body,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`certify: HTTP ${res.statusCode} ${text}`);
  return (performance.now() - t) / 1000;
}

/** A model's runs and the copies they held so far (rs_arena_model_run*_total, read with the admin key); zeros where it has none yet. */
export async function modelRuns(url: string, adminKey: string, model: string): Promise<{ runs: number; copies: number }> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text.slice(0, 200)}`);
  const series = (name: string) => Number(new RegExp(`^${name}\\{model="${model}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { runs: series('rs_arena_model_runs_total'), copies: series('rs_arena_model_run_copies_total') };
}
