// The test suite's profiler (scripts/profile-tests.mjs): its preload writes a CPU profile for every
// Node process and thread started with it, and the summary puts their samples where they belong
// (the repository's own code, module loading, a thread apart from its process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';

test('every process and thread started with the preload leaves a profile; the summary sums them by area, function and kind', async () => {
  const { summarize } = (await import(join(ROOT, 'scripts/profile-tests.mjs'))) as {
    summarize: (dir: string) => {
      profiles: number;
      sampledSeconds: number;
      areas: { name: string; seconds: number; share: number }[];
      functions: { name: string; seconds: number; kinds: { kind: string; seconds: number }[] }[];
      processKinds: { kind: string; count: number }[];
    };
  };
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-profile-test-'));
  try {
    // A process that spins in a named function for 300 ms, and a worker thread of its own.
    const program = `
      import { Worker } from 'node:worker_threads';
      function busyLoopForTheProfile(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }
      busyLoopForTheProfile(300);
      await new Promise((resolve) => new Worker('let y = 0; for (let i = 0; i < 1e6; i++) y += i;', { eval: true }).on('exit', resolve));`;
    const run = spawnSync(process.execPath, ['--import', join(ROOT, 'scripts/cpu-profile-preload.mjs'), '--input-type=module', '-e', program], {
      env: { ...process.env, NODE_OPTIONS: '', RS_ARENA_CPU_PROFILE_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2, `one profile for the process, one for its thread: ${files}`);
    assert.ok(files.some((f) => f.endsWith('-0.cpuprofile')) && files.some((f) => f.endsWith('-1.cpuprofile')));

    const s = summarize(dir);
    assert.equal(s.profiles, 2);
    assert.deepEqual(s.processKinds.map((k) => k.kind).sort(), ['other process', 'other thread']);
    // The busy loop is most of what was sampled, under its own name.
    const loop = s.functions.find((f) => f.name.startsWith('busyLoopForTheProfile '));
    assert.ok(loop && loop.seconds > 0.15, JSON.stringify(s.functions.slice(0, 5)));
    assert.ok(s.sampledSeconds >= loop.seconds);
    // ... and in the kind of process that ran it: the main thread, not the worker.
    assert.deepEqual(
      loop.kinds.map((k) => k.kind),
      ['other process'],
    );
    assert.equal(loop.kinds[0].seconds, loop.seconds);
    const shares = s.areas.reduce((t, a) => t + a.share, 0);
    assert.ok(Math.abs(shares - 1) < 0.02, `areas cover the samples: ${shares}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a frame goes to its area: a package, module loading, a wait on a child, the collector, the repository folder', async () => {
  const { areaOf } = (await import(join(ROOT, 'scripts/profile-tests.mjs'))) as { areaOf: (frame: { functionName: string; url: string }) => string };
  const cases: [string, string, string][] = [
    ['route', 'file:///r/node_modules/fastify/lib/route.js', 'fastify'],
    ['parse', 'file:///r/node_modules/@redocly/openapi-core/lib/x.js', '@redocly/openapi-core'],
    ['compileSourceTextModule', 'node:internal/modules/esm/utils', 'module loading (Node)'],
    ['parseCJS', 'node:internal/deps/cjs-module-lexer/lexer', 'module loading (Node)'],
    ['spawnSync', 'node:internal/child_process', 'waiting on a child process (spawnSync)'],
    ['(garbage collector)', '', 'garbage collection'],
    ['emit', 'node:events', 'Node internals'],
    ['writev', '', 'native: writev'],
    ['estimateGradient', 'file:///r/out/compiled-1-a/client/src/attacks/hsja.js', 'client/src'],
    ['handler', 'file:///r/server/src/routes/predict.ts', 'server/src'],
  ];
  for (const [functionName, url, area] of cases) assert.equal(areaOf({ functionName, url }), area, `${functionName} ${url}`);
});

test('without its folder the preload does nothing', () => {
  const run = spawnSync(process.execPath, ['--import', join(ROOT, 'scripts/cpu-profile-preload.mjs'), '-e', 'console.log("ran")'], {
    env: { ...process.env, NODE_OPTIONS: '', RS_ARENA_CPU_PROFILE_DIR: '' },
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'ran\n');
});

test('a bad argument is one line and exit code 2; --help prints the usage', () => {
  const script = join(ROOT, 'scripts/profile-tests.mjs');
  for (const [args, message] of [
    [['--bogus'], /^profile-tests: unknown option --bogus \(usage: /],
    [['--out'], /^profile-tests: --out needs a file /],
    [['a', 'b'], /^profile-tests: one filter, got a b /],
  ] as const) {
    const run = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 2, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
  const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: node scripts\/profile-tests\.mjs/);
});
