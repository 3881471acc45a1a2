// A working install looks like one: the engines field tells the truth about every locked package,
// install scripts are decided explicitly (npm 11's allowScripts), no project config npm does not
// know, and npm commands print no warning. `npm start -- --help` prints help and starts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8'));

test('every locked package runs on every Node the engines field promises', () => {
  // Platform packages for other systems (sharp's win32-ia32 build, …) are never installed here.
  const here = (list: string[] | undefined, value: string) => !list || list.includes(value);
  const bad = Object.entries(lock.packages as Record<string, { version?: string; engines?: { node?: string }; os?: string[]; cpu?: string[] }>)
    .filter(([, p]) => here(p.os, process.platform) && here(p.cpu, process.arch))
    .filter(([, p]) => typeof p.engines?.node === 'string' && !semver.subset(pkg.engines.node, p.engines.node))
    .map(([path, p]) => `${path}@${p.version} wants node ${p.engines!.node}`);
  assert.deepEqual(bad, [], `engines.node is ${pkg.engines.node}`);
  assert.ok(semver.satisfies(process.version, pkg.engines.node), `this Node (${process.version}) is one the engines field allows`);
});

test('install scripts are allowed or denied explicitly; no .npmrc setting npm does not know', () => {
  const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
    .filter(([path, p]) => p.hasInstallScript && path.includes('node_modules/'))
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
  assert.ok(withScripts.length > 0);
  for (const name of withScripts) assert.equal(typeof pkg.allowScripts?.[name], 'boolean', `${name} has an install script: allowScripts decides it`);
  // onnxruntime-node's script only downloads the CUDA provider on linux/x64: denied, so installs stay offline.
  assert.equal(pkg.allowScripts['onnxruntime-node'], false);
  assert.ok(!existsSync(`${root}.npmrc`) || !/onnxruntime/.test(readFileSync(`${root}.npmrc`, 'utf8')));
});

test('npm commands print no warning; npm start -- --help prints help and starts no server', () => {
  const run = spawnSync('npm', ['start', '--', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PORT: '1' } });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /RS_ARENA_MODELS_DIR/);
  assert.doesNotMatch(run.stdout + run.stderr, /npm warn|listening|serving deployments/i);
  const rs = spawnSync('npm', ['run', '--silent', 'rs-arena', '--', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(rs.status, 0, rs.stderr);
  assert.equal(rs.stderr, '');
});
