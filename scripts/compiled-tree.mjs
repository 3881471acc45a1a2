// The repository's TypeScript compiled once, for the tests: a mirror of the tree in which every .ts
// file has its JavaScript beside it, and everything else (assets, models, docs, the .ts files
// themselves) is a link to the original. A test process then starts on plain JavaScript, with no
// module loader in between: tsx resolves and loads every module, the packages' too, through hooks
// on a thread of their own, and that doubled the CPU of a test file (routes.test: 5.1 CPU-s with
// tsx, 2.7 from the tree; most of a unit test file's time is starting processes, model threads and
// loading modules). One esbuild pass compiles the ~300 files in about a second.
//
// The layout keeps every path the code computes from import.meta.url: ../config/tuning.json,
// ../../models, ../native/noise.wasm resolve to links to the originals; provenance hashes the .ts
// links, so records' code versions are the same from either tree. The workspace packages resolve
// to the tree's JavaScript: its node_modules/@rs-arena/* point at the tree's own packages, whose
// package.json files name .js where the repository's name .ts ("rs-arena-source" condition); every
// other package resolves, up the folders, to the repository's node_modules.
//
// Where a TypeScript entry point starts another process, it picks the same form as itself: the CLI
// (client/bin/rs-arena.mjs) runs the tree named by RS_ARENA_COMPILED; the server process and model
// threads take the extension of the module that starts them. `npm start` and `npm run` scripts stay
// on tsx: they are what a user runs, and the tests that run them run them so.
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Folders of the repository the tree leaves out: dependencies, git, build output. */
const SKIP = new Set(['node_modules', '.git', 'out', 'tmp', 'dist']);
const PACKAGES = ['shared', 'server', 'client'];

const hasTypeScript = (dir) =>
  readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? !SKIP.has(e.name) && hasTypeScript(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'),
  );

/**
 * Builds the tree of `root` in a new folder under `root/out`; answers its path. The caller removes
 * it (`removeTree`): each run has its own, so two runs in one checkout do not share one.
 */
export async function compileTree(root = process.cwd()) {
  mkdirSync(join(root, 'out'), { recursive: true });
  removeOrphans(join(root, 'out'), 'compiled-');
  const tree = mkdtempSync(join(root, 'out', `compiled-${process.pid}-`));
  const sources = [];
  // A folder with TypeScript somewhere below is mirrored entry by entry; any other entry is a link.
  const mirror = (dir) => {
    const into = join(tree, relative(root, dir));
    mkdirSync(into, { recursive: true });
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.name === 'node_modules') {
        // A package's own node_modules (not hoisted) stays reachable from its compiled files; the
        // root's is found up the folders.
        if (dir !== root) symlinkSync(path, join(into, e.name));
        continue;
      }
      if (SKIP.has(e.name)) continue;
      if (e.isDirectory() && hasTypeScript(path)) {
        mirror(path);
        continue;
      }
      if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) sources.push(path);
      // The packages' manifests are rewritten below; the root's is linked ("type": "module" for test/ and scripts/).
      if (e.name === 'package.json' && PACKAGES.includes(relative(root, dir))) continue;
      symlinkSync(path, join(into, e.name));
    }
  };
  mirror(root);
  for (const pkg of PACKAGES) {
    const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8'));
    manifest.exports = toJavaScript(manifest.exports);
    writeFileSync(join(tree, pkg, 'package.json'), JSON.stringify(manifest, null, 2));
  }
  // Code looks for ../shared/imagenet beside the repository (never committed): beside the tree too.
  const sibling = join(root, '..', 'shared');
  if (existsSync(sibling)) {
    try {
      symlinkSync(sibling, join(root, 'out', 'shared'));
    } catch (err) {
      if (err.code !== 'EEXIST') throw err; // made by an earlier run, or one running beside this
    }
  }
  mkdirSync(join(tree, 'node_modules', '@rs-arena'), { recursive: true });
  for (const pkg of PACKAGES) symlinkSync(join(tree, pkg), join(tree, 'node_modules', '@rs-arena', pkg));
  // Not bundled: one output file per source, so import.meta.url and relative imports stay as they are.
  // Inline source maps (run with --enable-source-maps): a failure's stack names the .ts line.
  await build({
    entryPoints: sources,
    outdir: tree,
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return tree;
}

/**
 * The tree's exports map: each entry its "rs-arena-source" target (or bare ./src/*.ts target) as .js,
 * for every condition, so the tree resolves to itself with or without --conditions=rs-arena-source.
 */
function toJavaScript(exports) {
  if (typeof exports === 'string') return exports.replace(/\.ts$/, '.js');
  if ('rs-arena-source' in exports) return toJavaScript(exports['rs-arena-source']);
  return Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, toJavaScript(v)]));
}

/**
 * Folders in `dir` named `${prefix}<pid>-…` whose run has ended without removing them (killed): the
 * compiled trees here, the tests' scratch folders (scripts/test.mjs).
 */
export function removeOrphans(dir, prefix) {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if (err.code === 'ESRCH') removeTree(join(dir, name));
    }
  }
}

/** A source file's compiled twin in `tree` (`file` relative to the repository's root). */
export const compiledPath = (tree, file) => join(tree, file.replace(/\.ts$/, '.js'));

/** The source (relative to the repository's root) of a compiled file in `tree`; undefined for a file outside it. */
export const sourcePath = (tree, file) => (file.startsWith(`${tree}/`) ? relative(tree, file).replace(/\.js$/, '.ts') : undefined);

export function removeTree(tree) {
  rmSync(tree, { recursive: true, force: true });
}
