// Runs every test file under test/ with Node's own test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [substring filter on the file path]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

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
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-force-exit', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS } },
);
process.exit(result.status ?? 1);
