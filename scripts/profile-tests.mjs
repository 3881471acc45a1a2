// Where the test suite's CPU goes: runs `node scripts/test.mjs [filter]` with a sampling CPU profile
// in every Node process and thread it starts (scripts/cpu-profile-preload.mjs), then sums the
// samples' self time by area (a package, Node's module loading, garbage collection, the repository's
// own folders), by function and by kind of process, prints the largest and writes them as JSON.
// Usage: node scripts/profile-tests.mjs [filter] [--out FILE] (default out/test-profile.json).
// Sampled time is on-thread time: a thread blocked in a synchronous call (spawnSync waiting for a
// child) is sampled too, and is its own area. Processes that are not Node (Redis, Chromium, esbuild's
// service) are not in it, nor the typecheck and lint (`npm test`'s --checks); `/usr/bin/time` around
// the run gives the total CPU.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Functions whose samples are Node loading modules (compiling, lexing CommonJS for its exports, resolving). */
const LOADING = /^(compileSourceTextModule|wrapSafe|compileForInternalLoader|parseSource|parseCJS|internalModuleStat|realpathSync)$/;
const SYNC_WAIT = /^(spawnSync|execFileSync|execSync)$/;

/** The area a sampled frame belongs to. */
export function areaOf({ functionName, url }) {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code (unattributed)';
  if (SYNC_WAIT.test(functionName)) return 'waiting on a child process (spawnSync)';
  if (LOADING.test(functionName) || /^node:internal\/(modules|deps\/cjs-module-lexer|bootstrap)/.test(url)) return 'module loading (Node)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'Node internals';
  if (url === '') return `native: ${functionName}`;
  const own = url.match(/\/(client\/src|client\/bin|server\/src|shared\/src|test|scripts)\//);
  return own ? own[1] : 'other';
}

/** What kind of process or thread a profile came from, and which one. */
function processOf(name, urls) {
  // cpu-profile-preload.mjs names a profile <pid>-<threadId>: thread 0 is the process's main thread.
  const thread = !name.endsWith('-0.cpuprofile');
  const testFile = urls.find((u) => /\/test\/.*\.test\.js$/.test(u));
  if (testFile) return { kind: thread ? 'test file thread' : 'test file', label: testFile.replace(/^.*?\/test\//, 'test/') };
  if (urls.some((u) => u.endsWith('/server/src/main.js') || u.endsWith('/server/src/main.ts')))
    return { kind: thread ? 'server thread' : 'server process', label: 'server' };
  if (urls.some((u) => u.endsWith('/client/bin/rs-arena.mjs'))) return { kind: thread ? 'CLI thread' : 'rs-arena command', label: 'rs-arena' };
  if (urls.some((u) => u.includes('/scripts/test.mjs'))) return { kind: 'test runner', label: 'scripts/test.mjs' };
  // TypeScript 7's launcher only: the native compiler it starts is not a Node process, so not sampled.
  if (urls.some((u) => u.includes('node_modules/typescript/'))) return { kind: 'tsc', label: 'tsc' };
  if (urls.some((u) => u.includes('node_modules/npm/') || u.includes('/lib/node_modules/npm/'))) return { kind: 'npm', label: 'npm' };
  return { kind: thread ? 'other thread' : 'other process', label: urls.find((u) => u.startsWith('file:')) ?? '' };
}

/** The profiles (.cpuprofile files) in `dir`, summed: by area, by function, by kind of process. */
export function summarize(dir) {
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  const areas = new Map();
  const functions = new Map();
  // Function → kind of process → µs: where a function's time is spent (writev in the servers, or in the tests?).
  const functionKinds = new Map();
  const kinds = new Map();
  const perProcess = [];
  let sampledUs = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const self = new Map();
    profile.samples.forEach((id, i) => add(self, id, profile.timeDeltas[i] ?? 0));
    let total = 0;
    const urls = profile.nodes.map((n) => n.callFrame.url).filter(Boolean);
    const p = processOf(file, urls);
    for (const node of profile.nodes) {
      const frame = node.callFrame;
      const us = self.get(node.id) ?? 0;
      if (us === 0 || frame.functionName === '(idle)') continue;
      total += us;
      add(areas, areaOf(frame), us);
      const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|out\/compiled-[^/]+)\//, '')}:${frame.lineNumber + 1}` : '(native)';
      const name = `${frame.functionName || '(anonymous)'} ${where}`;
      add(functions, name, us);
      if (!functionKinds.has(name)) functionKinds.set(name, new Map());
      add(functionKinds.get(name), p.kind, us);
    }
    sampledUs += total;
    const k = kinds.get(p.kind) ?? { count: 0, us: 0 };
    kinds.set(p.kind, { count: k.count + 1, us: k.us + total });
    perProcess.push({ ...p, seconds: total / 1e6 });
  }

  const seconds = (us) => Math.round(us / 1e4) / 100;
  const ranked = (map, limit) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, seconds: seconds(us), share: Math.round((1000 * us) / sampledUs) / 1000 }));
  return {
    profiles: files.length,
    sampledSeconds: seconds(sampledUs),
    areas: ranked(areas, 40),
    functions: ranked(functions, 60).map((f) => ({ ...f, kinds: ranked(functionKinds.get(f.name), 3).map(({ name, seconds }) => ({ kind: name, seconds })) })),
    processKinds: [...kinds].sort((a, b) => b[1].us - a[1].us).map(([kind, k]) => ({ kind, count: k.count, seconds: seconds(k.us) })),
    largestProcesses: perProcess.sort((a, b) => b.seconds - a.seconds).slice(0, 30),
  };
}

/** Runs the tests (scripts/test.mjs) profiled, prints the summary and writes it as JSON; exits as the tests did. */
async function main() {
  // Plain JavaScript, as scripts/test.mjs (no tsx: scripts/args.ts is TypeScript), with the same rules:
  // --help, and a bad argument is one line and exit code 2.
  const usage = 'usage: node scripts/profile-tests.mjs [filter] [--out FILE] (default out/test-profile.json)';
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log(usage);
    return;
  }
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : 'out/test-profile.json';
  const rest = args.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
  const unknown = rest.find((a) => a.startsWith('--'));
  let bad;
  if (outAt >= 0 && (!out || out.startsWith('--'))) bad = '--out needs a file';
  else if (unknown) bad = `unknown option ${unknown}`;
  else if (rest.length > 1) bad = `one filter, got ${rest.join(' ')}`;
  if (bad) {
    console.error(`profile-tests: ${bad} (${usage})`);
    process.exitCode = 2;
    return;
  }
  const filter = rest[0] ?? '';
  const preload = join(dirname(fileURLToPath(import.meta.url)), 'cpu-profile-preload.mjs');
  const profiles = mkdtempSync(join(tmpdir(), 'rs-arena-cpu-profile-'));

  const t0 = Date.now();
  const child = spawn(process.execPath, ['scripts/test.mjs', ...(filter ? [filter] : [])], {
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim(),
      RS_ARENA_CPU_PROFILE_DIR: profiles,
    },
  });
  const [testExitCode] = await once(child, 'exit');
  const wallSeconds = (Date.now() - t0) / 1000;

  const summary = {
    command: `node scripts/profile-tests.mjs${filter ? ` ${filter}` : ''}`,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    testExitCode,
    wallSeconds,
    ...summarize(profiles),
  };
  rmSync(profiles, { recursive: true, force: true });
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(summary, null, 1)}\n`);

  const table = (rows, name) => rows.map((r) => `${r.seconds.toFixed(1).padStart(8)} s  ${(100 * r.share).toFixed(1).padStart(5)}%  ${r[name]}`).join('\n');
  console.log(`\n${summary.profiles} profiles, ${summary.sampledSeconds} s sampled on-thread, ${wallSeconds.toFixed(0)} s wall (tests exited ${testExitCode})`);
  console.log(`\nby area:\n${table(summary.areas.slice(0, 20), 'name')}`);
  const where = (f) => `${f.name}  [${f.kinds.map((k) => `${k.kind} ${k.seconds.toFixed(1)}`).join(', ')}]`;
  console.log(
    `\nby function (the kinds of process it ran in):\n${table(
      summary.functions.slice(0, 20).map((f) => ({ ...f, where: where(f) })),
      'where',
    )}`,
  );
  console.log(
    `\nby kind of process:\n${summary.processKinds.map((k) => `${k.seconds.toFixed(1).padStart(8)} s  ${String(k.count).padStart(4)} × ${k.kind}`).join('\n')}`,
  );
  console.log(`\n${out}`);
  process.exitCode = testExitCode ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
