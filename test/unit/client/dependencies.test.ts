// The attacker apart from the defender: neither the client's package nor any of its modules reaches
// server code or onnxruntime, so an installed @rs-arena/client carries none of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../../helpers/root.js';

const root = ROOT;
const FORBIDDEN = /^(@rs-arena\/server|onnxruntime-node)(\/|$)/;

test("the client's packages depend on shared only, never on the server", () => {
  for (const pkg of ['client', 'shared']) {
    const json = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8'));
    const deps = Object.keys({ ...json.dependencies, ...json.peerDependencies, ...json.optionalDependencies });
    assert.deepEqual(
      deps.filter((d) => FORBIDDEN.test(d)),
      [],
      `${pkg}/package.json`,
    );
  }
});

test('no module of the client reaches server code', () => {
  // Every file the client's modules reach, through any import (type-only ones too) and the workspace
  // packages in between, as the repository's compiler resolves them: tsc --listFilesOnly over
  // client/src and client/bin. (TypeScript 7 has no stable JavaScript API to read one file's imports.)
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-deps-'));
  try {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.base.json'),
        compilerOptions: { customConditions: ['rs-arena-source'], noEmit: true, allowJs: true, typeRoots: [join(root, 'node_modules/@types')] },
        include: [join(root, 'client/src'), join(root, 'client/bin')],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir, '--listFilesOnly'], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const reached = tsc.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => relative(root, f));
    // The listing resolves what the client imports: its own modules, shared's through the package name.
    assert.ok(reached.filter((f) => f.startsWith('client/src/')).length > 20, 'client modules listed');
    assert.ok(reached.includes('client/bin/rs-arena.mjs'));
    assert.ok(reached.includes('shared/src/tensor.ts'), "shared's sources reached through @rs-arena/shared");
    assert.deepEqual(
      reached.filter((f) => f.startsWith('server/') || /node_modules\/(@rs-arena\/server|onnxruntime-node)\//.test(f)),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
