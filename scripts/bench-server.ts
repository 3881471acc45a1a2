// Server benchmark: in one run, on the same model, the raw onnxruntime limit (forward passes per
// second at the best batch size) against end-to-end RS queries over real HTTP to a server process,
// for n ∈ {1, 10, 100} and 1 or 8 concurrent clients. The ratio (forward passes per second through
// the server ÷ raw limit) says how much of the machine the serving path wastes. Then a remote base
// model against the local one at n = 100: a front server whose base model runs on a second server
// process over the Open Inference Protocol (loopback), queries/s remote ÷ local (target ≥ 0.8).
//   npm run bench:server [-- --seconds 4 --models fmnist-cnn,imagenet-mobilenetv2-int8 --remote-max-batch 100 --sections http,remote]
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
    /** http: the n sweep against the raw limit; remote: remote vs local base model. */
    sections: { type: 'string', default: 'http,remote' },
    'remote-max-batch': { type: 'string', default: '100' },
    'remote-concurrency': { type: 'string', default: '4' },
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
  // The operator's tuning (batchFor).
  writeFileSync(config, JSON.stringify({ deployments: NS.map((n) => ({ id: `n${n}`, model: modelId, sigma: SIGMA, n, batchSize: batchFor(raw, n) })) }));
  return serve2(config);
}

/** The n noisy copies in one onnxruntime run when a batch that large is within 5% of the best measured throughput, else runs of the best batch size. */
function batchFor(raw: { batch: number; passesPerSecond: number }[], n: number): number {
  const best = raw.reduce((a, b) => (b.passesPerSecond > a.passesPerSecond ? b : a));
  return raw.find((r) => r.batch >= n && r.passesPerSecond >= 0.95 * best.passesPerSecond)?.batch ?? best.batch;
}

/**
 * Remote against local base model at n = 100, over loopback: a second server process serves the
 * undefended model over /v2; a front process holds both deployments (same σ, n, batch size) and
 * sends the remote one's noisy copies as binary infer requests, split to --remote-max-batch and sent
 * concurrently. On one shared machine the two processes compete for the same cores: the ratio is a
 * floor for a real remote with its own hardware.
 */
async function remoteVsLocal(modelId: string, batchSize: number, input: Uint8Array) {
  const dir = mkdtempSync(join(tmpdir(), 'rs-bench-remote-'));
  const baseConfig = join(dir, 'base.json');
  writeFileSync(baseConfig, JSON.stringify({ deployments: [{ id: 'base', model: modelId, inputRange: 'any-finite', maxBatch: 4096 }] }));
  const base = await startServer({ config: baseConfig, env: { LOG_LEVEL: args['log-level']! } });
  const frontConfig = join(dir, 'front.json');
  const remote = { url: base.url, model: 'base', headers: { authorization: `Bearer ${base.keys.client}` }, maxBatch: Number(args['remote-max-batch']), concurrency: Number(args['remote-concurrency']) };
  const rs = { model: modelId, sigma: SIGMA, n: 100, batchSize };
  writeFileSync(frontConfig, JSON.stringify({ deployments: [{ id: 'local', ...rs }, { id: 'remote', ...rs, remote }] }));
  const front = await serve2(frontConfig);
  const pool = new Pool(front.url, { connections: 16, pipelining: 1 });
  const rows = [];
  try {
    for (const c of CONCURRENCY) {
      await load(pool, 'local', input, 1);
      const local = await load(pool, 'local', input, c);
      await load(pool, 'remote', input, 1);
      const far = await load(pool, 'remote', input, c);
      rows.push({ n: 100, concurrency: c, local, remote: far, ratio: far.queriesPerSecond / local.queriesPerSecond });
    }
  } finally {
    await pool.close();
    await front.stop();
    await base.stop();
  }
  console.log(`  remote base model (second process over /v2, maxBatch ${remote.maxBatch}, ${remote.concurrency} in flight) vs local, n = 100:`);
  console.log(`  ${'clients'.padStart(8)} ${'local q/s'.padStart(10)} ${'remote q/s'.padStart(11)} ${'ratio'.padStart(7)} ${'remote p50 ms'.padStart(14)}`);
  for (const r of rows) {
    console.log(`  ${String(r.concurrency).padStart(8)} ${r.local.queriesPerSecond.toFixed(1).padStart(10)} ${r.remote.queriesPerSecond.toFixed(1).padStart(11)} ${r.ratio.toFixed(3).padStart(7)} ${r.remote.p50ms.toFixed(1).padStart(14)}`);
  }
  return { maxBatch: remote.maxBatch, concurrency: remote.concurrency, rows };
}

const serve2 = (config: string) => startServer({ config, env: { LOG_LEVEL: args['log-level']!, RS_ARENA_CLIENT_KEY: KEY } });

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

  const input = float32ToBytes(Rng.seeded(2).fillUniform(new Float32Array(model.inputSize)));
  const sections = args.sections!.split(',');
  const remote = sections.includes('remote') ? await remoteVsLocal(id, batchFor(raw, 100), input) : null;
  if (!sections.includes('http')) {
    await model.close();
    report.push({ model: id, inputSize: model.inputSize, sigma: SIGMA, raw, remote });
    continue;
  }
  const server = await serve(id, raw);
  const pool = new Pool(server.url, { connections: 16, pipelining: 1 });
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
  report.push({ model: id, inputSize: model.inputSize, sigma: SIGMA, raw, rawAfter: after, rawLimit: { batch: best.batch, passesPerSecond: limit }, http: rows, remote });
}
mkdirSync('out', { recursive: true });
writeFileSync('out/bench-server.json', JSON.stringify({ node: process.version, seconds: SECONDS, date: new Date().toISOString(), logLevel: args['log-level'], results: report }, null, 2));
console.log('\nwrote out/bench-server.json');
