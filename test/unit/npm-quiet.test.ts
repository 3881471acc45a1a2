// A working install looks like one: the engines field tells the truth about every locked package,
// install scripts are decided explicitly (npm 11's allowScripts), no project config npm does not
// know, and npm commands print no warning. `npm start -- --help` prints help and starts nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';
import { ROOT } from '../helpers/root.js';

const root = ROOT;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8'));

test('every locked package runs on every Node the engines field promises', () => {
  const bad = [...installedHere()]
    .map((path) => [path, lock.packages[path]] as const)
    .filter(([, p]) => typeof p.engines?.node === 'string' && !semver.subset(pkg.engines.node, p.engines.node))
    .map(([path, p]) => `${path}@${p.version} wants node ${p.engines!.node}`);
  assert.deepEqual(bad, [], `engines.node is ${pkg.engines.node}`);
  assert.ok(semver.satisfies(process.version, pkg.engines.node), `this Node (${process.version}) is one the engines field allows`);
});

type Locked = {
  version?: string;
  engines?: { node?: string };
  os?: string[];
  cpu?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/** The lock's packages npm installs on this system: reached from the workspaces through dependencies, never
 * through a platform package for another system (sharp's win32-ia32 build, a wasm32 build and what only it needs…). */
function installedHere(): Set<string> {
  const packages = lock.packages as Record<string, Locked>;
  const here = (list: string[] | undefined, value: string) => !list || list.includes(value);
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    const p = packages[path];
    if (!p || !here(p.os, process.platform) || !here(p.cpu, process.arch)) return;
    seen.add(path);
    for (const name of Object.keys({
      ...p.dependencies,
      ...p.optionalDependencies,
      ...(path === '' ? (p as { devDependencies?: object }).devDependencies : {}),
    })) {
      // Node's lookup: the nearest node_modules/<name> from this package up to the root.
      for (let dir = path; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
        const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
        if (packages[candidate]) {
          visit(candidate);
          break;
        }
        if (!dir) break;
      }
    }
  };
  visit('');
  for (const path of Object.keys(packages)) if (!path.includes('node_modules/')) visit(path); // the workspaces
  // A workspace is linked: node_modules/<name> → its folder, with the folder's dependencies.
  for (const [path, p] of Object.entries(packages)) if ((p as { link?: boolean }).link) visit((p as { resolved?: string }).resolved ?? path);
  return seen;
}

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
