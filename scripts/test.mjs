// Runs every test file under test/ with Node's own test runner, from the repository compiled once
// to JavaScript (scripts/compiled-tree.mjs: a process starts in half the CPU it takes through tsx).
// Usage: node scripts/test.mjs [--checks] [substring filter on the file path]
// --checks (npm test): the typecheck and the lint run beside the tests (TypeScript 7's tsc, about 12
// CPU-s for the whole repository where TypeScript 5's took 27-32); their verdicts print when they
// end, the run fails if any of them does.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { compileTree, compiledPath, removeOrphans, removeTree } from './compiled-tree.mjs';
import { TIMES_FILE } from './test-times.mjs';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const args = process.argv.slice(2);
const withChecks = args.includes('--checks');
const filter = args.find((a) => !a.startsWith('--')) ?? '';
// The slowest files first, so that the two files running at once (--test-concurrency below) end
// together instead of one long file running alone at the end: by the last run's times where
// out/test-times.json holds them, else by test/times.json (a full run's, committed: a fresh clone's
// first run is CI's), else a guess (an end-to-end file, with its server, CLI processes or browser,
// 20 s; a unit file 2 s). Only the order depends on them.
const readTimes = (file, parse) => {
  try {
    return parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return new Map();
  }
};
const lastMs = readTimes(TIMES_FILE, (times) => new Map(times.map((f) => [f.file, f.ms])));
const committedMs = readTimes('test/times.json', (times) => new Map(Object.entries(times).map(([file, s]) => [file, s * 1000])));
const weight = (f) => lastMs.get(relative('.', f)) ?? committedMs.get(relative('.', f)) ?? (f.includes('/e2e/') ? 20_000 : 2_000);
const files = walk('test')
  .filter((f) => f.endsWith('.test.ts') && relative('.', f).includes(filter))
  .sort()
  .sort((a, b) => weight(b) - weight(a));
if (files.length === 0) {
  console.error(`no test files match "${filter}"`);
  process.exit(1);
}
// The workspace packages resolve to their sources ("rs-arena-source" export condition: in the
// compiled tree, its JavaScript); through NODE_OPTIONS, so every process a test starts (a server, the
// CLI) does too. RS_ARENA_COMPILED: the CLI runs the tree (client/bin/rs-arena.mjs). The tests run
// from the repository's root, as they always do: paths they name are the repository's.
const NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=rs-arena-source --enable-source-maps`.trim();
rmSync(TIMES_FILE, { force: true });
const t0 = Date.now();

/** A command's exit status and output (printed at once if it fails). */
async function check(name, command, commandArgs) {
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const [code] = await once(child, 'exit');
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  if (code === 0) console.log(`✔ ${name} (done at ${seconds} s)`);
  else console.log(`✖ ${name} failed (exit ${code}, at ${seconds} s):\n${output}`);
  return { name, ok: code === 0, output };
}
// One after the other: tsc, then Biome and knip.
const checks = withChecks
  ? (async () => [await check('typecheck', 'npm', ['run', '-s', 'typecheck']), await check('lint', 'npm', ['run', '-s', 'lint'])])()
  : Promise.resolve([]);

const tree = await compileTree();

// The tests' scratch folders (os.tmpdir(): results, Redis files, the Dockerfile replays' and the
// packed client's `npm ci` of 430 MB) in memory where the machine has room for them: the same
// writes to a disk-backed /tmp cost the kernel twice the CPU (docker.test: 14-15 CPU-s of system
// time against 7 on /dev/shm, 29.5 s of wall time against 21). A TMPDIR the user set stands.
// A run stopped before its end leaves its folder: the next run removes those whose process is gone.
function scratch() {
  if (process.env.TMPDIR) return undefined;
  try {
    removeOrphans('/dev/shm', 'rs-arena-tests-');
    // Not where it is mounted noexec: the replays load onnxruntime's and sharp's native modules from it.
    const mount = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .findLast((m) => m[1] === '/dev/shm');
    if (!mount || mount[3].split(',').includes('noexec')) return undefined;
    const fs = statfsSync('/dev/shm');
    return fs.bavail * fs.bsize >= 4 * 2 ** 30 ? mkdtempSync(`/dev/shm/rs-arena-tests-${process.pid}-`) : undefined;
  } catch {
    return undefined;
  }
}
const tmp = scratch();

// Light unit files share processes: most of such a file's CPU is starting Node and loading Fastify,
// zod and the models (a file that builds one test server costs about 1.5 CPU-s before its first
// test), and 60-odd files paid it each (measured on the 77 unit files: 206 CPU-s one process per file,
// 158 all in one). Node 20 has no --test-isolation=none (22.8 has), so each shared process runs an
// entry of the compiled tree that imports its files one after the other; a test still reports the
// file it is declared in, failures name it in their stacks, and a file's top-level before/after
// hooks still run before its first test and at the process's end. A unit file that the times say
// takes SHARED_UNDER_MS or more keeps a process of its own (its start-up is a small part of it), as
// does every end-to-end file (its servers and commands are processes anyway). A test that captures this
// process's stdout must let binary chunks through (test/helpers/cli.ts does): they are the runner's
// reports of other files' tests, which a capture would swallow without a failure. Two entries, balanced
// by the times, so that they fill both cores' slots with the rest.
const SHARED_UNDER_MS = 5_000;
/**
 * A shared process's entry: its files imported one after the other under one test that ends when all
 * are loaded. --test-force-exit ends a process once every test known so far has finished (Node's
 * documentation): this test keeps one unfinished until the last file has declared its tests, so a
 * file still at its top-level await (starting its server) cannot be cut off unseen. It fails naming
 * any file that did not load.
 */
const sharedEntry = (files) => `import { test } from 'node:test';
const files = ${JSON.stringify(files)};
let loaded;
test(${JSON.stringify(`${files.length} unit file${files.length === 1 ? '' : 's'} in one process: every one loaded`)}, () => new Promise((resolve, reject) => (loaded = { resolve, reject })));
const failed = [];
for (const [file, url] of files) {
  try {
    await import(url);
  } catch (err) {
    failed.push(\`\${file}: \${err?.stack ?? err}\`);
  }
}
if (failed.length > 0) loaded.reject(new Error(\`not loaded:\\n\${failed.join('\\n')}\`));
else loaded.resolve();
`;
const SHARED_PROCESSES = 2;
const light = files.filter((f) => relative('.', f).startsWith('test/unit/') && weight(f) < SHARED_UNDER_MS);
const runs = files.filter((f) => !light.includes(f)).map((f) => ({ path: compiledPath(tree, f), weight: weight(f) }));
// RS_ARENA_TEST_SHARED=0: every file in a process of its own (a test that depends on another file's state shows up).
if (light.length > SHARED_PROCESSES && process.env.RS_ARENA_TEST_SHARED !== '0') {
  const groups = Array.from({ length: SHARED_PROCESSES }, (_, i) => ({ path: join(tree, 'test', `shared-process-${i + 1}.test.js`), weight: 0, files: [] }));
  for (const f of light) {
    const g = groups.reduce((a, b) => (b.weight < a.weight ? b : a));
    g.files.push(f);
    g.weight += weight(f);
  }
  for (const g of groups) writeFileSync(g.path, sharedEntry(g.files.map((f) => [relative('.', f), pathToFileURL(compiledPath(tree, f)).href])));
  runs.push(...groups);
} else runs.push(...light.map((f) => ({ path: compiledPath(tree, f), weight: weight(f) })));
runs.sort((a, b) => b.weight - a.weight);
let status;
try {
  // --test-force-exit: a test file whose failure leaves a handle open (a worker's Redis connection, a
  // child's pipe) ends when its tests have, instead of holding the whole run until CI's time limit.
  const runner = spawn(
    process.execPath,
    [
      '--test',
      '--test-force-exit',
      // Two files at once: the suite is CPU-bound and the machine has 2 cores. Files start servers on
      // ports the OS hands out, in folders of their own (mkdtemp) and on Redis servers of their own
      // (test/helpers/redis.ts). RS_ARENA_TEST_CONCURRENCY=1 runs one at a time.
      `--test-concurrency=${process.env.RS_ARENA_TEST_CONCURRENCY ?? 2}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      // Where the time goes, per file (scripts/test-times.mjs).
      '--test-reporter=./scripts/test-times.mjs',
      '--test-reporter-destination=stderr',
      ...runs.map((r) => r.path),
    ],
    { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS, RS_ARENA_COMPILED: tree, ...(tmp && { TMPDIR: tmp }) } },
  );
  [status] = await once(runner, 'exit');
} finally {
  removeTree(tree);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
// Where the time went: the slowest files (all of them in out/test-times.json).
try {
  const times = JSON.parse(readFileSync(TIMES_FILE, 'utf8'));
  const inTests = times.reduce((s, f) => s + f.ms, 0);
  console.log(`\n${files.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s (${(inTests / 1000).toFixed(0)} s in tests); the slowest:`);
  for (const f of times.slice(0, 8)) console.log(`  ${(f.ms / 1000).toFixed(1).padStart(6)} s  ${String(f.tests).padStart(3)} tests  ${f.file}`);
} catch {
  /* no test finished */
}
const failed = (await checks).filter((c) => !c.ok);
for (const c of failed) console.log(`\n✖ ${c.name} failed:\n${c.output}`);
process.exit(status === 0 && failed.length === 0 ? 0 : 1);
