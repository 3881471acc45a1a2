// `npm run demo` end to end, shortened (1 image, 40 queries): the server starts in its own process
// on the embedded default config, the quick set of attacks runs against the three deployments, and
// the table and the results file say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { records } from '../helpers/cli.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;

test('npm run demo runs the quick attacks against the three deployments and prints one table', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'rs-arena-demo-')), 'results.jsonl');
  const run = spawnSync('npm', ['run', '--silent', 'demo', '--', '--images', '1', '--budget', '40', '--out', out], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const quick = ['hsja', 'surfree', 'rays', 'psj'];
  for (const deployment of ['fmnist-cnn', 'fmnist-cnn-rs025', 'fmnist-randtrain-rs025']) {
    for (const attack of quick) assert.match(run.stdout, new RegExp(`^${deployment}\\s+${attack}\\s+1\\s`, 'm'), `a row for ${deployment} × ${attack}`);
  }
  assert.doesNotMatch(run.stdout, /^\S+\s+geoda\s/m, 'the full set only with --full');
  assert.match(run.stdout, /1 shipped test images, 4 attacks, 40 queries per attack/);
  const rs = records(out);
  assert.equal(rs.length, 12);
  assert.deepEqual([...new Set(rs.map((r) => r.attack))].sort(), [...quick].sort());
  for (const r of rs) assert.ok(r.queries.total <= 40, `${r.attack} on ${r.deployment}: ${r.queries.total} queries within the budget`);
});
