// Throughput of a distributed campaign on this machine: the same seeded distortion tasks (σ = 0,
// plain deployments) through a local Redis queue on 1 worker process and on 3, beside a 1-worker
// process with the 3 workers' concurrency and the local (no queue) run, each against one server
// process started here. Prints tasks/s and queries/s, the ratio 3 workers ÷ 1 worker, and where the
// CPU went (server, workers, submitter), and writes out/bench-queue.json.
//   npm run bench:queue [-- --images 8 --budget 300 --concurrency 2]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePreset } from '../client/src/experiments/presets.js';
import { runPreset } from '../client/src/experiments/run.js';
import { processCpuMs, startServer } from '../client/src/server-process.js';
import { startRedis } from '../test/helpers/redis.js';
import { scriptArgs } from './args.js';

const a = scriptArgs('npm run bench:queue -- [options]', {
  images: { type: 'string', default: '8' },
  budget: { type: 'string', default: '300' },
  concurrency: { type: 'string', default: '2' },
});
const images = Number(a.images);
const budget = Number(a.budget);
const concurrency = Number(a.concurrency);

const redis = await startRedis();
const server = await startServer();
const base = mkdtempSync(join(tmpdir(), 'rs-arena-bench-queue-'));
const env = { ...process.env, RS_ARENA_CLIENT_KEY: server.keys.client, RS_ARENA_EVALUATOR_KEY: server.keys.evaluator, RS_ARENA_QUEUE: redis.url };
const preset = parsePreset(
  {
    name: 'bench-queue',
    description: 'queue throughput',
    distortion: {
      settings: [
        { model: 'fmnist-cnn', sigma: 0 },
        { model: 'fmnist-cnn-advtrain', sigma: 0 },
      ],
      ns: [1],
      Pas: [0.5],
      attacks: ['hsja', 'surfree', 'rays'],
      budget,
      images,
      assessSamples: 100,
    },
  },
  'bench',
);
const tasks = 2 * 3 * images;

async function startWorker(k: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', 'worker', '--concurrency', String(k)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  while (!/worker ready/.test(out)) {
    if (child.exitCode !== null) throw new Error(`worker exited:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

interface Run {
  name: string;
  workers: number;
  concurrencyPerWorker: number;
  wallS: number;
  tasksPerS: number;
  queriesPerS: number;
  /** CPU seconds, and the share of the machine's cores they fill over the run. */
  cpuS: { server: number; workers: number; submitter: number };
  coresBusy: number;
  /** CPU seconds per task, all processes: what bounds throughput once the cores are full. */
  cpuPerTask: number;
  /** Tasks per second this machine's cores could sustain at that cost (cores ÷ cpuPerTask). */
  ceilingTasksPerS: number;
  /** The machine's 1-minute load average when the run ended (other work on it slows every run). */
  load: number;
}

async function run(name: string, workers: number, k: number): Promise<Run> {
  const dir = join(base, name);
  const children = await Promise.all(Array.from({ length: workers }, () => startWorker(k)));
  const s0 = server.cpuMs();
  const w0 = children.map((c) => processCpuMs(c.pid!));
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  await runPreset(preset, {
    dir,
    endpoint: server.url,
    keys: server.keys,
    concurrency: k,
    imagenetImages: base,
    command: 'bench',
    ...(workers > 0 ? { queue: { url: redis.url, campaign: name } } : {}),
  });
  const wallS = (performance.now() - t0) / 1000;
  const p = process.cpuUsage(p0);
  const cpu = {
    server: (server.cpuMs() - s0) / 1000,
    workers: children.reduce((s, c, i) => s + (processCpuMs(c.pid!) - w0[i]), 0) / 1000,
    submitter: (p.user + p.system) / 1e6,
  };
  for (const c of children) {
    c.kill('SIGTERM');
    await once(c, 'exit');
  }
  const records = readFileSync(join(dir, 'distortion.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  if (records.length !== tasks) throw new Error(`${name}: ${records.length} records of ${tasks}`);
  const queries = records.reduce((s, r) => s + r.queries.total, 0);
  const cpuTotal = cpu.server + cpu.workers + cpu.submitter;
  const r: Run = {
    name,
    workers,
    concurrencyPerWorker: k,
    wallS,
    tasksPerS: tasks / wallS,
    queriesPerS: queries / wallS,
    cpuS: cpu,
    coresBusy: cpuTotal / wallS,
    cpuPerTask: cpuTotal / tasks,
    ceilingTasksPerS: cpus().length / (cpuTotal / tasks),
    load: loadavg()[0],
  };
  process.stdout.write(
    `${name.padEnd(22)} ${wallS.toFixed(1).padStart(6)} s  ${r.tasksPerS.toFixed(2).padStart(6)} tasks/s  ${r.queriesPerS.toFixed(0).padStart(6)} queries/s  CPU s: server ${cpu.server.toFixed(1)}, workers ${cpu.workers.toFixed(1)}, submitter ${cpu.submitter.toFixed(1)} (${r.coresBusy.toFixed(2)} of ${cpus().length} cores busy; ${r.cpuPerTask.toFixed(3)} CPU s/task, ceiling ${r.ceilingTasksPerS.toFixed(1)} tasks/s; load ${r.load.toFixed(1)})\n`,
  );
  return r;
}

try {
  process.stdout.write(
    `${tasks} tasks (2 plain models × hsja, surfree, rays × ${images} images), budget ${budget}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}\n`,
  );
  const runs: Run[] = [];
  runs.push(await run('local', 0, concurrency));
  runs.push(await run('queue-1-worker', 1, concurrency));
  runs.push(await run('queue-3-workers', 3, concurrency));
  runs.push(await run(`queue-1-worker-x${3 * concurrency}`, 1, 3 * concurrency));
  const ratio = runs[2].tasksPerS / runs[1].tasksPerS;
  process.stdout.write(`3 workers ÷ 1 worker: ${ratio.toFixed(2)}× tasks/s\n`);
  mkdirSync('out', { recursive: true });
  writeFileSync(
    'out/bench-queue.json',
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cores: cpus().length,
        tasks,
        budget,
        images,
        runs,
        ratio3to1: ratio,
        ceilingRatio3to1: runs[2].ceilingTasksPerS / runs[1].ceilingTasksPerS,
      },
      null,
      2,
    ),
  );
  process.stdout.write('wrote out/bench-queue.json\n');
} finally {
  await server.stop();
  await redis.destroy();
  rmSync(base, { recursive: true, force: true });
}
