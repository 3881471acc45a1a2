// Fuzzes a server in this process over real HTTP with the generator of the fuzz test
// (test/helpers/fuzz.ts), then times image bombs. Prints and writes a JSON report.
// Usage: npm run fuzz:server -- [--requests 10000] [--concurrency 8] [--seed 1] [--out out/fuzz-server.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import fc from 'fast-check';
import { buildApp } from '../server/src/app.js';
import { KEYS } from '../test/helpers/app.js';
import { destroyAgent, fuzzConfig, hostileBodies, requestArbitrary, send, type Sent } from '../test/helpers/fuzz.js';
import { jpegBomb } from '../test/helpers/hostile.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run fuzz:server -- [options]', {
  requests: { type: 'string', default: '10000' },
  concurrency: { type: 'string', default: '8' },
  seed: { type: 'string', default: '1' },
  out: { type: 'string', default: 'out/fuzz-server.json' },
});
const total = Number(args.requests);
const concurrency = Number(args.concurrency);
if (!Number.isInteger(total) || total < 1 || !Number.isInteger(concurrency) || concurrency < 1)
  throw new Error('--requests and --concurrency must be positive integers');

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

const app = await buildApp(fuzzConfig(), { logger: false });
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
try {
  const requests = fc.sample(requestArbitrary(await hostileBodies()), { numRuns: total, seed: Number(args.seed) });
  const results: Sent[] = new Array(total);
  const worst: { status: Sent['status']; method: string; path: string }[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        results[i] = await send(port, requests[i], 5000);
        const s = results[i].status;
        if (s === 'hang' || s === 'reset' || s >= 500) worst.push({ status: s, method: requests[i].method, path: requests[i].path });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const byStatus: Record<string, number> = {};
  for (const r of results) byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);

  // The bomb: a ~1 KB progressive JPEG declaring 16000×16000, one at a time, then four at once.
  const bomb = await jpegBomb(16000, 16000);
  const bombOnce = async () =>
    send(port, {
      method: 'POST',
      path: '/v1/deployments/plain/predict',
      headers: { authorization: `Bearer ${KEYS.client}`, 'content-type': 'image/jpeg' },
      body: bomb,
    });
  global.gc?.();
  const rssBefore = rssMb();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb())), 2);
  const single = [];
  for (let i = 0; i < 20; i++) single.push(await bombOnce());
  const together = await Promise.all(Array.from({ length: 4 }, bombOnce));
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rssMb());
  const bombMs = single.map((s) => s.ms).sort((a, b) => a - b);

  // The largest header that is accepted (2048×2048 for this model): decoded, so it costs what it costs.
  const atCap = await jpegBomb(2048, 2048);
  global.gc?.();
  const capBefore = rssMb();
  let capPeak = capBefore;
  const capSampler = setInterval(() => (capPeak = Math.max(capPeak, rssMb())), 2);
  const capRes = await send(port, {
    method: 'POST',
    path: '/v1/deployments/plain/predict',
    headers: { authorization: `Bearer ${KEYS.client}`, 'content-type': 'image/jpeg' },
    body: atCap,
  });
  clearInterval(capSampler);
  capPeak = Math.max(capPeak, rssMb());

  const report = {
    requests: total,
    concurrency,
    seed: Number(args.seed),
    seconds: Number(seconds.toFixed(1)),
    byStatus,
    fiveXX: results.filter((r) => typeof r.status === 'number' && r.status >= 500).length,
    hangs: byStatus.hang ?? 0,
    resets: byStatus.reset ?? 0,
    latencyMs: { p50: Number(quantile(ms, 0.5).toFixed(1)), p99: Number(quantile(ms, 0.99).toFixed(1)), max: Number(ms[ms.length - 1].toFixed(1)) },
    failures: worst.slice(0, 20),
    imageBomb: {
      bytes: bomb.length,
      declared: '16000x16000',
      statuses: [...new Set([...single, ...together].map((s) => s.status))],
      msMedian: Number(quantile(bombMs, 0.5).toFixed(1)),
      msMax: Number(bombMs[bombMs.length - 1].toFixed(1)),
      fourAtOnceMsMax: Number(Math.max(...together.map((s) => s.ms)).toFixed(1)),
      extraRssMb: Number((rssPeak - rssBefore).toFixed(1)),
    },
    largestAcceptedHeader: {
      bytes: atCap.length,
      declared: '2048x2048',
      status: capRes.status,
      ms: Number(capRes.ms.toFixed(1)),
      extraRssMb: Number((capPeak - capBefore).toFixed(1)),
    },
    server: { alive: (await send(port, { method: 'GET', path: '/healthz', headers: {} })).status === 200 },
  };
  console.log(JSON.stringify(report, null, 2));
  mkdirSync(dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
  process.exitCode = report.fiveXX || report.hangs || report.resets || !report.server.alive ? 1 : 0;
} finally {
  destroyAgent();
  await app.close();
}
