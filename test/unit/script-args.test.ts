// The scripts' one command-line parser (scripts/args.ts): defaults, --help, and a bad argument as a
// message naming it (exit code 2), never a stack trace or a NaN carried into a benchmark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { UsageError, parseScriptArgs, usageText } from '../../scripts/args.js';

const OPTIONS = {
  seconds: { type: 'string', default: '4', help: 'Length of each load run.' },
  certify: { type: 'string', number: true },
  models: { type: 'string', default: 'fmnist-cnn' },
  quick: { type: 'boolean', default: false },
} as const;

test('defaults, given values and --help', () => {
  assert.deepEqual({ ...(parseScriptArgs(OPTIONS, []) as object) }, { seconds: '4', models: 'fmnist-cnn', quick: false });
  assert.deepEqual(
    { ...(parseScriptArgs(OPTIONS, ['--seconds', '2.5', '--certify', '1e5', '--quick']) as object) },
    { seconds: '2.5', certify: '1e5', models: 'fmnist-cnn', quick: true },
  );
  assert.equal(parseScriptArgs(OPTIONS, ['--seconds', '2', '--help']), 'help');
  const usage = usageText('npm run bench:x -- [options]', OPTIONS);
  assert.match(usage, /^usage: npm run bench:x -- \[options\]/);
  assert.match(usage, /--seconds VALUE +Length of each load run\. \(default 4\)/);
  assert.match(usage, /--quick(?! VALUE)/);
});

test('an unknown option, a missing value, a number option given a word: UsageError naming it', () => {
  const bad: [string[], RegExp][] = [
    [['--bogus'], /--bogus/],
    [['--seconds'], /--seconds/],
    [['--seconds', 'abc'], /--seconds takes a number, not "abc"/],
    [['--certify', ''], /--certify takes a number/],
    [['stray'], /stray/],
  ];
  for (const [argv, message] of bad)
    assert.throws(
      () => parseScriptArgs(OPTIONS, argv),
      (err) => err instanceof UsageError && message.test(err.message),
      argv.join(' '),
    );
});

test('every script that reads options does so through scriptArgs, and a bad one exits 2 with the usage', () => {
  const dir = new URL('../../scripts/', import.meta.url);
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'args.ts');
  const raw = scripts.filter((f) => /\bparseArgs\(/.test(readFileSync(new URL(f, dir), 'utf8')));
  assert.deepEqual(raw, [], 'scripts parsing their arguments on their own');
  assert.ok(scripts.filter((f) => readFileSync(new URL(f, dir), 'utf8').includes('scriptArgs(')).length >= 13);
  // The floor server: its imports are light, so this costs a process start and no model.
  const r = spawnSync(process.execPath, ['--import', 'tsx', new URL('floor-server.ts', dir).pathname, '--port', 'eighty'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^--port takes a number, not "eighty"\n\nusage: /);
});
