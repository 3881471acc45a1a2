// Where a query's CPU goes in the server: runs the server under V8's sampling profiler
// (--cpu-prof, every thread: the event loop and each model thread), loads one RS deployment with
// single-input queries over HTTP (as bench:server does), and splits the samples into the parts of a
// query's path (HTTP core, Fastify, auth, zod, body decoding, budget, noise, scheduler, worker
// hand-off, onnxruntime, vote, logging, metrics, GC), in µs of CPU per query. The part that the
// HTTP floor (scripts/floor-server.ts) does not pay is what can be cut.
//   npm run profile:server [-- --n 1 --clients 8 --seconds 5 --model fmnist-cnn --tuning '{"threads":2,...}' --json out/profile.json]
// Self time of each sampled frame goes to the first part whose pattern matches its script URL or
// function name; the table lists every part with its share of all samples outside idle.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Pool } from 'undici';
import { findModel, loadCatalog, loadSample } from '@rs-arena/shared/catalog';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { startServer } from '../client/src/server-process.js';
import { cpuModel, loadTuning, tuningForMachine } from '../server/src/tuning.js';
import { certifyOnce, load, modelRuns } from './http-load.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run profile:server -- [options]', {
  model: { type: 'string', default: 'fmnist-cnn', help: 'The model of the RS deployment.' },
  n: { type: 'string', default: '1', help: 'Noisy copies per query.' },
  clients: { type: 'string', default: '8', help: 'Clients sending single-input queries at once.' },
  seconds: { type: 'string', default: '5', help: 'Length of the load window.' },
  sigma: { type: 'string', default: '0.25', help: 'σ of the deployment.' },
  tuning: { type: 'string', help: 'A model tuning (JSON) instead of the committed one for this machine.' },
  json: { type: 'string', help: 'Also write the table as JSON to this file.' },
  certify: { type: 'string', number: true, help: 'Profile one CERTIFY (n0 = 100, this many samples) by the evaluator instead of the predict load.' },
  profile: { type: 'string', default: 'true', help: "false: no profiler, only the rate and the CPU per query (the profiler's own cost left out)." },
  top: { type: 'string', default: '0', help: 'Also print the heaviest functions.' },
});
const N = Number(args.n);
const CLIENTS = Number(args.clients);
const SECONDS = Number(args.seconds);
const KEY = 'profile-client-key-0123456789';

/** The parts of a query's path, in match order: a frame's URL (or, for built-ins, its function name). */
const PARTS: [string, RegExp][] = [
  ['onnxruntime', /onnxruntime|InferenceSession|\brun\b.*session|backend\.js/i],
  ['noise', /shared\/src\/(noise|rng|ziggurat|wasm)|\/noise[-.]|fillNormal|^wasm:/],
  ['scheduler', /server\/src\/scheduler\.ts/],
  ['worker hand-off', /model-thread\.ts|model-instances\.ts|node:internal\/worker|MessagePort|postMessage/],
  ['vote & smoothing', /server\/src\/(smoothing|defenses\/|defense\.ts|defense-chain)/],
  ['budget & charge', /server\/src\/(budget|routes\/charge|state\/)/],
  ['auth', /server\/src\/auth\.ts|timingSafeEqual|createHash|[Hh]ash/],
  ['body decoding', /server\/src\/body\.ts|shared\/src\/tensor/],
  ['zod', /node_modules\/zod\//],
  ['route & preamble', /server\/src\/(route\.ts|routes\/)/],
  ['logging', /node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream)\//],
  ['metrics', /node_modules\/(prom-client|tdigest|bintrees)\/|server\/src\/metrics\.ts/],
  [
    'fastify',
    /node_modules\/(fastify|@fastify|find-my-way|light-my-request|avvio|fast-json-stringify|secure-json-parse|toad-cache|fast-querystring|content-type|process-warning|abstract-logging|rfdc|fast-uri|ret|safe-regex2)\//,
  ],
  ['HTTP core', /node:(internal\/)?(http|_http|net|stream|streams|timers|url|buffer|events|async_hooks|process\/task_queues)/],
  ['GC', /^\(garbage collector\)$/],
  ['other server code', /server\/src\//],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The samples of the last `windowUs` of a profile (the load, not start-up and warm-up): [index, µs]. */
function* windowed(profile: CpuProfile, windowUs: number): Generator<[number, number]> {
  let t = profile.startTime;
  const from = profile.endTime - windowUs;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    // Each sample's time is the delta to the next one (V8's own attribution).
    if (t >= from) yield [i, profile.timeDeltas[i + 1] ?? 0];
  }
}

type CallFrame = ProfileNode['callFrame'];

/** µs of self time of the load window's samples, summed by `keyOf` of each sample's frame. */
function tally(profile: CpuProfile, windowUs: number, keyOf: (frame: CallFrame) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (const [i, dt] of windowed(profile, windowUs)) {
    const key = keyOf(byId.get(profile.samples[i])!.callFrame);
    out.set(key, (out.get(key) ?? 0) + dt);
  }
  return out;
}

/** The part of a query's path a frame belongs to (idle and program listed on their own). */
function partOf({ url, functionName }: CallFrame): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'program (native, unattributed)';
  const name = url || functionName;
  return PARTS.find(([, re]) => re.test(name))?.[0] ?? 'other';
}

/** A frame's function and file (for --top). */
const functionOf = ({ url, functionName }: CallFrame): string =>
  `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(server|shared|client)\//, '$1/')}`;

const catalog = loadCatalog();
const entry = findModel(catalog, args.model!);
if (!entry) throw new Error(`no model ${args.model}`);
const dir = mkdtempSync(join(tmpdir(), 'rs-profile-'));
const profiles = join(dir, 'profiles');
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ deployments: [{ id: 'target', model: entry.id, sigma: Number(args.sigma), n: N, maxBatch: 1024 }] }));
const env: Record<string, string> = {
  RS_ARENA_CLIENT_KEY: KEY,
};
const machine = tuningForMachine(loadTuning(), cpuModel());
const tuning = args.tuning ? JSON.parse(args.tuning) : machine.models[entry.id];
if (args.tuning) {
  const file = join(dir, 'tuning.json');
  writeFileSync(file, JSON.stringify({ source: 'profile-server --tuning', models: { [entry.id]: tuning } }));
  env.RS_ARENA_TUNING = file;
}
// Every thread writes its own .cpuprofile when the process exits (SIGTERM: main.ts exits cleanly).
const PROFILE = args.profile !== 'false';
const server = await startServer({ config, env, nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--cpu-prof-interval=200'] : [] });
const { images } = loadSample(catalog);
const body = float32ToBytes(
  images.subarray(
    0,
    entry.input.shape.reduce((a, b) => a * b, 1),
  ),
);
const pool = new Pool(server.url, { connections: CLIENTS, pipelining: 1 });
// Warm-up (JIT, buffers), then the measured load.
await load(pool, 'target', body, 1, KEY, 0.5);
let queries = 0;
const runs0 = await modelRuns(server.url, server.keys.admin, entry.id);
const cpu0 = server.cpuMs();
const t0 = performance.now();
if (args.certify) {
  await certifyOnce(pool, 'target', body, server.keys.evaluator, Number(args.certify));
  queries = 1;
} else queries = (await load(pool, 'target', body, CLIENTS, KEY, SECONDS)).queries;
const wall = (performance.now() - t0) / 1000;
const cpuUsPerQuery = ((server.cpuMs() - cpu0) * 1000) / queries;
const runs1 = await modelRuns(server.url, server.keys.admin, entry.id);
const batches = { runs: runs1.runs - runs0.runs, copies: runs1.copies - runs0.copies };
await pool.close();
await server.stop();
// The profiles end at the server's exit: their last `windowUs` are the load (and the shutdown).
const windowUs = (performance.now() - t0) * 1000;

// One file per thread; the largest is the event loop's (it also holds the warm-up, spread evenly).
const files = (PROFILE ? readdirSync(profiles) : []).filter((f) => f.endsWith('.cpuprofile'));
const threads = files.map((f) => {
  const profile = JSON.parse(readFileSync(join(profiles, f), 'utf8')) as CpuProfile;
  const parts = tally(profile, windowUs, partOf);
  const busy = [...parts].filter(([k]) => k !== 'idle').reduce((s, [, v]) => s + v, 0);
  return { file: f, parts, busy, profile };
});
threads.sort((a, b) => b.busy - a.busy);
const total = threads.reduce((s, t) => s + t.busy, 0);
const totals = new Map<string, number>();
for (const t of threads) for (const [k, v] of t.parts) if (k !== 'idle') totals.set(k, (totals.get(k) ?? 0) + v);
// µs per query: the shares of the CPU measured during the load (/proc), not the profiler's own clock.
const rows = [...totals].sort((a, b) => b[1] - a[1]).map(([part, us]) => ({ part, share: us / total, usPerQuery: (us / total) * cpuUsPerQuery }));

console.log(
  `${entry.id}, ${args.certify ? `one CERTIFY of ${args.certify} samples (n0 = 100), ${wall.toFixed(2)} s:` : `n = ${N}, ${CLIENTS} clients, ${SECONDS} s:`} ${queries} queries, ${(queries / wall).toFixed(0)} queries/s, ${cpuUsPerQuery.toFixed(0)} µs of server CPU per query`,
);
console.log(
  `the scheduler: ${batches.runs} model runs, ${(batches.copies / Math.max(1, batches.runs)).toFixed(2)} copies per run (tuned batch ${tuning?.batchSize ?? 'default'}${tuning?.maxBatchSize ? `-${tuning.maxBatchSize}` : ''})`,
);
console.log(`tuning: ${JSON.stringify(tuning)}; ${threads.length} threads profiled (busy ms: ${threads.map((t) => (t.busy / 1000).toFixed(0)).join(', ')})`);
for (const r of rows) console.log(`  ${r.part.padEnd(32)} ${(r.share * 100).toFixed(1).padStart(5)} %  ${r.usPerQuery.toFixed(1).padStart(8)} µs/query`);
const top = Number(args.top);
if (top > 0) {
  const fn = new Map<string, number>();
  for (const t of threads) for (const [k, v] of tally(t.profile, windowUs, functionOf)) if (!k.startsWith('(idle)')) fn.set(k, (fn.get(k) ?? 0) + v);
  console.log(`heaviest functions (share of busy samples):`);
  for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
}
if (args.json) {
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(
    args.json,
    `${JSON.stringify({ model: entry.id, n: N, clients: CLIENTS, seconds: SECONDS, tuning, queries, queriesPerSecond: queries / wall, cpuUsPerQuery, modelRuns: batches, parts: rows, date: new Date().toISOString() }, null, 1)}\n`,
  );
}
