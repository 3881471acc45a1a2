// Runs every test file under test/ with Node's own test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [substring filter on the file path]
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TIMES_FILE } from './test-times.mjs';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const filter = process.argv[2] ?? '';
const files = walk('test')
  .filter((f) => f.endsWith('.test.ts') && relative('.', f).includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files match "${filter}"`);
  process.exit(1);
}
// The workspace packages resolve to their TypeScript sources ("rs-arena-source" export condition);
// through NODE_OPTIONS, so every process a test starts (a server, the CLI) does too.
const NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=rs-arena-source`.trim();
// --test-force-exit: a test file whose failure leaves a handle open (a worker's Redis connection, a
// child's pipe) ends when its tests have, instead of holding the whole run until CI's time limit.
rmSync(TIMES_FILE, { force: true });
const t0 = Date.now();
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-force-exit',
    // One file at a time by default (files start servers and time-bounded waits on 2 cores);
    // RS_ARENA_TEST_CONCURRENCY=2 runs two at once, to measure.
    `--test-concurrency=${process.env.RS_ARENA_TEST_CONCURRENCY ?? 1}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    // Where the time goes, per file (scripts/test-times.mjs).
    '--test-reporter=./scripts/test-times.mjs',
    '--test-reporter-destination=stderr',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS } },
);
// Where the time went: the slowest files (all of them in out/test-times.json).
try {
  const times = JSON.parse(readFileSync(TIMES_FILE, 'utf8'));
  const inTests = times.reduce((s, f) => s + f.ms, 0);
  console.log(`\n${files.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s (${(inTests / 1000).toFixed(0)} s in tests); the slowest:`);
  for (const f of times.slice(0, 8)) console.log(`  ${(f.ms / 1000).toFixed(1).padStart(6)} s  ${String(f.tests).padStart(3)} tests  ${f.file}`);
} catch {
  /* no test finished */
}
process.exit(result.status ?? 1);
