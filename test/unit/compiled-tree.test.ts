// The compiled tree the tests run from (scripts/compiled-tree.mjs), built from a small repository of
// its own: the workspace packages resolve to the tree's JavaScript with or without the source
// condition, paths taken from import.meta.url reach the originals, the .ts sources are there to
// hash, and a tree whose run was killed is removed by the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
// @ts-expect-error: a plain .mjs script without declarations
import { compileTree, removeTree } from '../../scripts/compiled-tree.mjs';

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

const pkg = (name: string) =>
  JSON.stringify({
    name: `@rs-arena/${name}`,
    type: 'module',
    exports: { './*': { 'rs-arena-source': './src/*.ts', types: './dist/*.d.ts', default: './dist/*.js' } },
  });

test('the compiled tree: packages resolve to its JavaScript, assets and sources are the originals, orphans go', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rs-arena-tree-'));
  try {
    write(root, {
      'package.json': JSON.stringify({ name: 'fixture', type: 'module' }),
      'shared/package.json': pkg('shared'),
      'shared/src/greet.ts': "export const greet = (name: string): string => 'hello ' + name;\n",
      'shared/native/data.txt': 'asset',
      'server/package.json': pkg('server'),
      'server/src/asset.ts':
        "import { readFileSync } from 'node:fs';\nexport const asset: string = readFileSync(new URL('../../shared/native/data.txt', import.meta.url), 'utf8');\n",
      'client/package.json': pkg('client'),
      'client/src/self.ts': 'export const self: string = import.meta.url;\n',
      'test/main.test.ts': [
        "import { greet } from '@rs-arena/shared/greet';",
        "import { asset } from '../server/src/asset.js';",
        "import { self } from '../client/src/self.js';",
        'interface Shape { n: number }',
        'const shape: Shape = { n: 1 };',
        'console.log(JSON.stringify({ greet: greet("tree"), asset, self, n: shape.n }));',
      ].join('\n'),
    });
    // A tree left by a run that was killed (no such process): removed when the next is built.
    mkdirSync(join(root, 'out', 'compiled-999999999-orphan'), { recursive: true });
    const tree: string = await compileTree(root);
    try {
      assert.ok(!existsSync(join(root, 'out', 'compiled-999999999-orphan')), 'the orphan is removed');
      assert.ok(tree.startsWith(join(root, 'out', `compiled-${process.pid}-`)));
      // The sources stay beside their JavaScript, as links (provenance hashes the .ts files).
      assert.ok(lstatSync(join(tree, 'shared/src/greet.ts')).isSymbolicLink());
      assert.ok(lstatSync(join(tree, 'shared/native')).isSymbolicLink());
      assert.match(readFileSync(join(tree, 'shared/src/greet.js'), 'utf8'), /hello/);
      // Run as plain JavaScript, without a loader, with the source condition and without it.
      for (const conditions of [['--conditions=rs-arena-source'], []]) {
        const run = spawnSync(process.execPath, [...conditions, join(tree, 'test/main.test.js')], {
          encoding: 'utf8',
          env: { ...process.env, NODE_OPTIONS: '' },
        });
        assert.equal(run.status, 0, run.stderr);
        const out = JSON.parse(run.stdout);
        assert.deepEqual({ greet: out.greet, asset: out.asset, n: out.n }, { greet: 'hello tree', asset: 'asset', n: 1 });
        assert.equal(out.self, `file://${tree}/client/src/self.js`);
      }
    } finally {
      removeTree(tree);
    }
    assert.ok(!existsSync(tree));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
