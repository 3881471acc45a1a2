// Server benchmark: in one run, on the same model, the raw onnxruntime limit (forward passes per
// second at the best batch size) against end-to-end RS queries over real HTTP to a server process,
// for n ∈ {1, 10, 100} and 1 or 8 concurrent clients. The ratio (forward passes per second through
// the server ÷ raw limit) says how much of the machine the serving path wastes.
//   npm run bench:server [-- --seconds 4 --models fmnist-cnn,imagenet-mobilenetv2-int8]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { Rng } from '@rs-arena/shared/rng';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { OnnxModel } from '../server/src/model.js';
import { startServer, type ServerProcess } from '../client/src/server-process.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    models: { type: 'string', default: 'fmnist-cnn,imagenet-mobilenetv2-int8' },
    sigma: { type: 'string', default: '0.25' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const SECONDS = Number(args.seconds);
const SIGMA = Number(args.sigma);
const NS = [1, 10, 100];
const CONCURRENCY = [1, 8];
const KEY = 'bench-client-key-0123456789';
process.env.RS_ARENA_IMAGENET_DIR ??= resolve('../shared/imagenet');

/** Raw onnxruntime forward passes per second for each batch size; the best is the physical limit. */
async function rawLimit(model: OnnxModel, batches: number[]) {
  const rng = Rng.seeded(1);
  const rows = [];
  for (const b of batches) {
    const x = rng.fillUniform(new Float32Array(b * model.inputSize));
    await model.logits(x, b);
    let passes = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (SECONDS * 1000) / 2) {
      await model.logits(x, b);
      passes += b;
    }
    rows.push({ batch: b, passesPerSecond: passes / ((performance.now() - t0) / 1000) });
  }
  return rows;
}

/** A server process serving n ∈ NS of one model (request logs at LOG_LEVEL: pino's per-request info lines cost real time). */
async function serve(modelId: string, raw: { batch: number; passesPerSecond: number }[]): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-bench-'));
  const config = join(dir, 'config.json');
  // The operator's tuning: the n noisy copies in one onnxruntime run when a batch that large is
  // within 5% of the best measured throughput, else runs of the best batch size.
  const best = raw.reduce((a, b) => (b.passesPerSecond > a.passesPerSecond ? b : a));
  const batchFor = (n: number) => raw.find((r) => r.batch >= n && r.passesPerSecond >= 0.95 * best.passesPerSecond)?.batch ?? best.batch;
  writeFileSync(config, JSON.stringify({ deployments: NS.map((n) => ({ id: `n${n}`, model: modelId, sigma: SIGMA, n, batchSize: batchFor(n) })) }));
  return startServer({ config, env: { LOG_LEVEL: args['log-level']!, RS_ARENA_CLIENT_KEY: KEY } });
}

/**
 * `concurrency` clients send single-input queries back to back for SECONDS. The rate divides by the
 * time until the last answer: a slow query (ImageNet at n = 100 takes seconds) ends after SECONDS.
 */
async function load(pool: Pool, deployment: string, body: Uint8Array, concurrency: number) {
  let queries = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const res = await pool.request({
          path: `/v1/deployments/${deployment}/predict`,
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/octet-stream' },
          body,
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        latencies.push(performance.now() - t);
        queries++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { queriesPerSecond: queries / elapsed, p50ms: latencies[Math.floor(latencies.length / 2)], p90ms: latencies[Math.floor(latencies.length * 0.9)] };
}

const catalog = loadCatalog();
const report: Record<string, unknown>[] = [];
for (const id of args.models!.split(',')) {
  const entry = findModel(catalog, id);
  const resolved = entry && resolveModel(catalog, entry);
  if (!resolved || resolved.status !== 'ok') {
    console.log(`\n${id}: skipped (${resolved?.problem ?? 'not in the manifest'})`);
    continue;
  }
  const model = await OnnxModel.load(resolved, { maxBatch: 4096 });
  const small = model.inputSize < 10_000;
  const raw = await rawLimit(model, small ? [1, 16, 64, 100, 256, 1000] : [1, 8, 16, 32, 100]);
  const best = raw.reduce((a, b) => (b.passesPerSecond > a.passesPerSecond ? b : a));
  console.log(`\n${id}: raw onnxruntime, forward passes/s by batch size`);
  for (const r of raw) console.log(`  batch ${String(r.batch).padStart(5)}: ${r.passesPerSecond.toFixed(0)} passes/s`);

  const server = await serve(id, raw);
  const pool = new Pool(server.url, { connections: 16, pipelining: 1 });
  const input = float32ToBytes(Rng.seeded(2).fillUniform(new Float32Array(model.inputSize)));
  const rows = [];
  for (const n of NS) {
    await load(pool, `n${n}`, input, 1); // warm-up
    for (const c of CONCURRENCY) {
      const r = await load(pool, `n${n}`, input, c);
      rows.push({ n, concurrency: c, ...r, passesPerSecond: r.queriesPerSecond * n, ratio: 0 });
      process.stdout.write('.');
    }
  }
  await pool.close();
  await server.stop();
  // The machine's speed drifts: measure the limit again now and take the mean of both.
  const [after] = await rawLimit(model, [best.batch]);
  await model.close();
  const limit = (best.passesPerSecond + after.passesPerSecond) / 2;
  console.log(`\n  raw limit ${limit.toFixed(0)} passes/s at batch ${best.batch} (before ${best.passesPerSecond.toFixed(0)}, after ${after.passesPerSecond.toFixed(0)})`);
  console.log(`  ${'n'.padStart(4)} ${'clients'.padStart(8)} ${'queries/s'.padStart(10)} ${'passes/s'.padStart(10)} ${'ratio'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)}`);
  for (const row of rows) {
    row.ratio = row.passesPerSecond / limit;
    console.log(
      `  ${String(row.n).padStart(4)} ${String(row.concurrency).padStart(8)} ${row.queriesPerSecond.toFixed(1).padStart(10)} ${row.passesPerSecond.toFixed(0).padStart(10)} ${row.ratio.toFixed(3).padStart(7)} ${row.p50ms.toFixed(1).padStart(8)} ${row.p90ms.toFixed(1).padStart(8)}`,
    );
  }
  report.push({ model: id, inputSize: model.inputSize, sigma: SIGMA, raw, rawAfter: after, rawLimit: { batch: best.batch, passesPerSecond: limit }, http: rows });
}
mkdirSync('out', { recursive: true });
writeFileSync('out/bench-server.json', JSON.stringify({ node: process.version, seconds: SECONDS, date: new Date().toISOString(), logLevel: args['log-level'], results: report }, null, 2));
console.log('\nwrote out/bench-server.json');
